// Pins the writers' exact output to committed files that Fixtures/verify_swift_output.py
// checked with numpy and the safetensors library. Set GRUCC_FORMATS_EXPORT=<dir> to write
// fresh copies there instead (then verify them with the script and commit them).
import Foundation
import Testing

@testable import GruccCore

@Suite struct InteropTests {
  static let safetensors = Safetensors.write(
    [
      NamedTensor(name: "gru.weight_ih", dtype: .f32, shape: [6, 2], values: (0..<12).map { (Double($0) - 5) / 4 }),
      NamedTensor(name: "gru.bias", dtype: .f64, shape: [6], values: (0..<6).map { 0.1 * Double($0) }),
      NamedTensor(name: "h16", dtype: .f16, shape: [3], values: [1, -0.5, 0.25]),
      NamedTensor(name: "b16", dtype: .bf16, shape: [2], values: [1.5, -3]),
      NamedTensor(name: "steps", dtype: .i64, shape: [], values: [42]),
      NamedTensor(name: "ids", dtype: .i32, shape: [2], values: [-1, 7]),
    ], metadata: [("version", "1"), ("format", "grucc")])

  static let npz = Npz.write([
    ("weight", (0..<6).map { Double($0) / 8 }, [2, 3], .f32),
    ("bias", [0.1, 0.2, 0.3], [3], .f64),
    ("n", [5], [], .i64),
    ("empty", [], [0], .i32),
    ("half", [0.5, 2], [2], .f16),
  ])

  static let npy = Npy.write(values: (0..<8).map { Double($0) * 1.5 - 3 }, shape: [2, 2, 2], dtype: .f64)

  static let csv = Array(CSV.write(rows: [[0.1, -2], [1e-7, 3]], header: ["x", "y"]).utf8)

  static let outputs: [(String, [UInt8])] = [
    ("swift_written.safetensors", safetensors), ("swift_written.npz", npz),
    ("swift_written.npy", npy), ("swift_written.csv", csv),
  ]

  @Test func writersMatchVerifiedFiles() throws {
    if let dir = ProcessInfo.processInfo.environment["GRUCC_FORMATS_EXPORT"] {
      for (name, bytes) in Self.outputs {
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
      }
      return
    }
    for (name, bytes) in Self.outputs {
      #expect(bytes == (try Fixtures.bytes(name)), "\(name) differs from the verified copy")
    }
  }

  @Test func writtenFilesReadBack() throws {
    let st = try Safetensors.read(Self.safetensors)
    #expect(st.tensors.map(\.name) == ["b16", "gru.bias", "gru.weight_ih", "h16", "ids", "steps"])
    #expect(try Npz.read(Self.npz).map(\.name) == ["weight", "bias", "n", "empty", "half"])
    #expect(try Npy.read(Self.npy).shape == [2, 2, 2])
    #expect(try CSV.read(Self.csv) == [[0.1, -2], [1e-7, 3]])
  }
}
