// What the example projects under Examples/ share: seed 001's trained adder, a program that
// prints `A + B = SUM` and then the model's 21 per-step outputs, and the check of those outputs
// against the interpreter (`grucc run`) on the same bits.

import Foundation
import Testing

@testable import GruccCore

enum AdderExample {
  static let (a, b) = (23, 42)
  static let bits = 21

  /// Checks a run of the example program (`add 23 42`) against `grucc run` of `model` and
  /// returns the program's outputs. The committed weights add; changed ones need not (`adds`).
  static func check(_ ran: ProcessOutput, model: String, adds: Bool = true) throws -> [Double] {
    try #require(ran.succeeded, "\(ran.summary)")
    let lines = ran.stdout.split(separator: "\n")
    try #require(lines.count == bits + 1, "\(ran.stdout)")
    #expect(lines[0].hasPrefix("\(a) + \(b) = "))
    if adds { #expect(lines[0] == "\(a) + \(b) = \(a + b)") }
    let program = try lines.dropFirst().map { try #require(Double(String($0))) }

    let csv = (0..<bits).map { t in "\((a >> t) & 1),\((b >> t) & 1)\n" }.joined()
    // Not beside the model: the SwiftPM plugin counts every file there as an input.
    let interpreted = try withScratchDirectory { dir in
      try csv.write(toFile: "\(dir)/x.csv", atomically: true, encoding: .utf8)
      return Driver.run(["run", model, "--input", "\(dir)/x.csv"])
    }
    try #require(interpreted.exitCode == 0, "\(interpreted.stderr)")
    let reference = interpreted.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { Double(String($0)) }
    #expect(reference.count == bits)
    let worst = zip(program, reference).map { abs($0 - $1) }.max() ?? .infinity
    #expect(worst <= 1e-12, "the program and the interpreter differ by \(worst)")
    return program
  }

  /// Scales every weight in the safetensors file at `path` by 3/4: other numbers, same shapes.
  static func changeWeights(_ path: String) throws {
    var tensors = try Safetensors.read([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))).tensors
    for i in tensors.indices { tensors[i].values = tensors[i].values.map { $0 * 0.75 } }
    try Data(Safetensors.write(tensors)).write(to: URL(fileURLWithPath: path))
  }
}
