// Seed 001's story, end to end: the committed adder (trained by `grucc train` from its init
// rules, weights in Specs/seed001-adder.safetensors) compiled to C adds numbers four times longer
// than any it was trained on.

import Foundation
import Testing

@testable import GruccCore

@Suite struct AdderTests {
  /// Tools/adder/check.c against Generated/seed001-adder.c: 1024 + 16 = 1040 at 20 bits, and 200
  /// random 20-bit sums all right.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"))
  func generatedAdderAddsTwentyBitNumbers() throws {
    let dir = try EndToEnd.temporaryDirectory("adder-check")
    defer { try? FileManager.default.removeItem(at: dir) }
    let binary = dir.appendingPathComponent("check").path
    let root = Golden.root
    let built = try Clang.compiler!.compile(
      CCompiler.strictC + ["-O2", "-I\(root)/Generated", "\(root)/Tools/adder/check.c", "\(root)/Generated/seed001-adder.c",
                           "-lm", "-o", binary])
    #expect(built.succeeded, "\(built.summary)")
    let ran = try ProcessRunner.run(binary, [])
    #expect(ran.succeeded, "\(ran.summary)")
    #expect(ran.stdout == "1024 + 16 = 1040\n200 of 200 random 20-bit sums right\n")
  }

  /// The Spec's training command is deterministic: run twice (3 steps here) it writes the same
  /// bytes. The whole run, from scratch to a C adder, is Tools/adder/train-from-scratch.sh, which
  /// CI runs with a release build.
  @Test func trainingIsDeterministic() throws {
    _ = Golden.enterRoot
    let dir = try EndToEnd.temporaryDirectory("adder-train")
    defer { try? FileManager.default.removeItem(at: dir) }
    var weights: [[UInt8]] = []
    for k in 0..<2 {
      let path = dir.appendingPathComponent("w\(k).safetensors").path
      let result = Driver.run([
        "train", "Specs/seed001-adder.gru", "--init", "--data", "Specs/seed001-adder.train.npz", "--loss", "quadratic",
        "--steps", "3", "--batch", "100", "--every", "3", "-o", path,
      ])
      #expect(result.exitCode == 0, "\(result.stderr)")
      weights.append(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }
    #expect(weights[0] == weights[1] && !weights[0].isEmpty)
  }
}
