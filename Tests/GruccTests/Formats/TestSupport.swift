// Shared test helpers: fixture loading, the expected-values table written by
// Tests/Fixtures/formats/make_fixtures.py, error-message assertions and the mutation fuzzer.
import Foundation
import Testing

@testable import GruccCore

/// Access to the files in Tests/Fixtures/formats, located via #filePath so the
/// tests need no SwiftPM resources.
enum Fixtures {
  static let directory: String = {
    let file = #filePath  // .../Tests/GruccTests/Formats/TestSupport.swift
    var dir = String(file[..<file.lastIndex(of: "/")!])
    for _ in 0..<2 { dir = String(dir[..<dir.lastIndex(of: "/")!]) }
    return dir + "/Fixtures/formats"
  }()

  static func bytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
  }

  /// One line of expected.txt.
  struct Expected {
    var file: String
    var array: String
    var dtype: String
    var shape: [Int]
    var values: [Double]
  }

  static func expected(file: String) throws -> [Expected] {
    let text = try String(contentsOfFile: directory + "/expected.txt", encoding: .utf8)
    var result: [Expected] = []
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      guard f.count == 5, f[0] == file else { continue }
      let shape = f[3].isEmpty ? [] : f[3].split(separator: ",").map { Int($0)! }
      let values = f[4].isEmpty ? [] : f[4].split(separator: " ").map { Double(String($0))! }
      result.append(Expected(file: f[0], array: f[1], dtype: f[2], shape: shape, values: values))
    }
    return result
  }
}

/// Same value including the sign of zero; any NaN matches any NaN.
func sameValue(_ a: Double, _ b: Double) -> Bool {
  (a.isNaN && b.isNaN) || (a == b && a.sign == b.sign)
}

func sameValues(_ a: [Double], _ b: [Double]) -> Bool {
  a.count == b.count && zip(a, b).allSatisfy(sameValue)
}

/// Expects `body` to throw a FormatError whose message contains every keyword.
func expectError(
  _ keywords: String..., sourceLocation: Testing.SourceLocation = #_sourceLocation,
  _ body: () throws -> Void
) {
  do {
    try body()
    Issue.record("expected an error mentioning \(keywords)", sourceLocation: sourceLocation)
  } catch {
    guard let error = error as? FormatError else {
      Issue.record("expected a FormatError, got \(error)", sourceLocation: sourceLocation)
      return
    }
    for k in keywords {
      #expect(error.message.contains(k), "message \"\(error.message)\" lacks \"\(k)\"", sourceLocation: sourceLocation)
    }
    #expect(!error.message.hasSuffix("."), "message ends with a period", sourceLocation: sourceLocation)
  }
}

/// Deterministic PRNG (SplitMix64) so fuzz runs are reproducible.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Feeds `read` the file truncated at, and mutated at, each selected byte position, plus
/// random multi-byte corruptions. The reader must return or throw FormatError; a crash
/// fails the whole test run. Returns how many
/// variants were rejected, so callers can check the fuzzing actually exercised errors.
@discardableResult
func fuzz(
  _ original: [UInt8], positions: [Int]? = nil, randomRounds: Int = 300,
  _ read: ([UInt8]) throws -> Void
) -> Int {
  var rejected = 0
  func attempt(_ data: [UInt8]) {
    do {
      try read(data)
    } catch {
      if !(error is FormatError) { Issue.record("unexpected error type: \(error)") }
      rejected += 1
    }
  }
  for i in positions ?? Array(0..<original.count) {
    attempt(Array(original[..<i]))
    for mutation in [{ (b: UInt8) in b ^ 0xFF }, { _ in 0 }, { _ in 0xFF }, { $0 &+ 1 }, { $0 ^ 0x80 }] {
      var copy = original
      copy[i] = mutation(copy[i])
      attempt(copy)
    }
  }
  var rng = SplitMix64(state: UInt64(original.count))
  for _ in 0..<randomRounds where !original.isEmpty {
    var copy = original
    for _ in 0..<Int.random(in: 1...8, using: &rng) {
      copy[Int.random(in: 0..<copy.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
    }
    attempt(copy)
  }
  return rejected
}

/// Evenly spread sample of positions for files too large to fuzz at every byte.
func samplePositions(count: Int, samples: Int) -> [Int] {
  count <= samples ? Array(0..<count) : (0..<samples).map { $0 * count / samples }
}
