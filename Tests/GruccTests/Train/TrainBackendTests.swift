// grucc train's backends from the command line: the compiled step (the default) writes the
// interpreter's weights and checkpoint bit for bit, a run resumed through it writes the
// uninterrupted run's, and without a working C compiler it trains in the interpreter, saying so
// in one line on stderr.

import Foundation
import Testing

@testable import GruccCore

@Suite(.serialized, .enabled(if: TrainingCompilers.found != nil))
struct TrainBackendTests {
  static let model = """
    model tiny
    precision f32
    input x[2], lengths len
    gru h = x -> hidden 3, reset after, update takes-candidate, bias separate
    output y = dense(h, 1)
    init seed 4

    """

  /// 12 sequences of 4 steps of two bits, lengths 1 to 4; y is 1 where either bit is.
  static let data: [UInt8] = {
    var random = Xoshiro256(seed: 9)
    let x = (0..<(12 * 4 * 2)).map { _ in random.uniform() < 0.5 ? 0.0 : 1.0 }
    let y = stride(from: 0, to: x.count, by: 2).map { max(x[$0], x[$0 + 1]) }
    let lengths = (0..<12).map { Double(1 + $0 % 4) }
    return Npz.write([
      (name: "x", values: x, shape: [12, 4, 2], dtype: .f64), (name: "len", values: lengths, shape: [12], dtype: .f64),
      (name: "y", values: y, shape: [12, 4, 1], dtype: .f64),
    ])
  }()

  func inDirectory(_ body: (String) throws -> Void) throws {
    try withScratchDirectory { dir in
      #expect(FileManager.default.createFile(atPath: "\(dir)/tiny.gru", contents: Data(Self.model.utf8)))
      #expect(FileManager.default.createFile(atPath: "\(dir)/train.npz", contents: Data(Self.data)))
      try body(dir)
    }
  }

  func arguments(_ dir: String, _ extra: [String]) -> [String] {
    ["train", "\(dir)/tiny.gru", "--data", "\(dir)/train.npz", "--loss", "bce", "--steps", "30", "--batch", "5", "--seed", "2",
     "--every", "10", "--lr", "0.05"] + extra
  }

  /// The file's bytes; a missing file reads as nothing, which matches no file that was written.
  func bytes(_ path: String) -> [UInt8] { FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? [] }

  @Test(arguments: [["--optimizer", "adam"], ["--optimizer", "sgd", "--momentum", "0.9"]])
  func compiledWritesTheInterpretersFilesAndResumes(_ optimizer: [String]) throws {
    try inDirectory { dir in
      func run(_ extra: [String]) -> DriverResult {
        let r = Driver.run(arguments(dir, optimizer + extra))
        #expect(r.exitCode == 0 && r.stderr.isEmpty, "\(r.stderr)")
        return r
      }
      let compiled = run(["-o", "\(dir)/c.safetensors", "--checkpoint", "\(dir)/c.ckpt.safetensors"])
      let interpreted = run(["-o", "\(dir)/i.safetensors", "--checkpoint", "\(dir)/i.ckpt.safetensors", "--backend", "interpreter"])
      #expect(compiled.stdout == interpreted.stdout.replacingOccurrences(of: "/i.", with: "/c."))
      #expect(bytes("\(dir)/c.safetensors") == bytes("\(dir)/i.safetensors"))
      #expect(bytes("\(dir)/c.ckpt.safetensors") == bytes("\(dir)/i.ckpt.safetensors"))
      // 20 steps, then resumed to 30, both compiled: the uninterrupted run's files.
      _ = run(["--steps", "20", "-o", "\(dir)/p.safetensors", "--checkpoint", "\(dir)/p.ckpt.safetensors"])
      _ = run(["--resume", "\(dir)/p.ckpt.safetensors", "-o", "\(dir)/r.safetensors", "--checkpoint", "\(dir)/p.ckpt.safetensors"])
      #expect(bytes("\(dir)/r.safetensors") == bytes("\(dir)/c.safetensors"))
      #expect(bytes("\(dir)/p.ckpt.safetensors") == bytes("\(dir)/c.ckpt.safetensors"))
      #expect(bytes("\(dir)/p.safetensors") != bytes("\(dir)/c.safetensors"))
    }
  }

  @Test(.enabled(if: DeterminismTests.executable != nil, "no grucc executable beside the tests"))
  func withoutACompilerItTrainsInTheInterpreterAndSaysSoOnce() throws {
    try inDirectory { dir in
      let grucc = try #require(DeterminismTests.executable)
      let fallback = try ProcessRunner.run(
        grucc, arguments(dir, ["-o", "\(dir)/f.safetensors"]), environment: ["CC": "/nonexistent/cc"])
      #expect(fallback.succeeded, "\(fallback.summary)")
      #expect(
        fallback.stderr
          == "grucc train: no working C compiler (CC=/nonexistent/cc: not found or not executable); training in the interpreter\n")
      let interpreted = Driver.run(arguments(dir, ["-o", "\(dir)/i.safetensors", "--backend", "interpreter"]))
      #expect(interpreted.exitCode == 0, "\(interpreted.stderr)")
      #expect(!bytes("\(dir)/f.safetensors").isEmpty)
      #expect(bytes("\(dir)/f.safetensors") == bytes("\(dir)/i.safetensors"))
    }
  }
}
