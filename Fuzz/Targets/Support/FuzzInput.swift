// What every fuzz target shares: the input as bytes, a small memory budget (so a legitimate but
// large request is refused by grucc before libFuzzer's own memory limit kills the run), and a
// check that turns a broken invariant into a crash libFuzzer records.

@testable import GruccCore

enum FuzzInput {
  /// Well under libFuzzer's default -rss_limit_mb of 2048 even when held a few times over.
  static let budget = MemoryBudget(limit: 256 << 20)

  static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
  }

  static func require(_ condition: Bool, _ what: String) {
    if !condition { fatalError("fuzz invariant broken: \(what)") }
  }
}
