// libFuzzer target: the numeric CSV reader. Every row of a successful read has the same width.

@testable import GruccCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = FuzzInput.bytes(data, size)
  if let table = try? CSV.readTable(bytes, budget: FuzzInput.budget), let first = table.rows.first {
    FuzzInput.require(table.rows.allSatisfy { $0.count == first.count }, "rows of different widths")
    FuzzInput.require(table.rows.allSatisfy { $0.allSatisfy(\.isFinite) }, "a value that is not finite")
  }
  return 0
}
