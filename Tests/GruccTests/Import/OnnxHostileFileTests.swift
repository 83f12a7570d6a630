// The ONNX reproducers of the reliability report (Tests/Fixtures/onnx-hostile): each used to trap
// or to import a clamped axis. `grucc check` must now name the node, the operator and the bad
// number, exit with 1, and do it at once.

import Foundation
import Testing

@testable import GruccCore

@Suite struct OnnxHostileFileTests {
  static let root = EndToEnd.repositoryRoot.appendingPathComponent("Tests/Fixtures/onnx-hostile")

  func check(_ file: String, _ expected: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let path = Self.root.appendingPathComponent(file).path
    let start = Date()
    let result = Driver.run(["check", path])
    let elapsed = Date().timeIntervalSince(start)
    #expect(result.exitCode == 1, "exit \(result.exitCode): \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.hasPrefix("\(path): error: "), "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.contains(expected), "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(!result.stderr.contains("GruccCore") && !result.stderr.contains("Optional("), sourceLocation: sourceLocation)
    #expect(elapsed < 2, "took \(elapsed) s", sourceLocation: sourceLocation)
  }

  @Test func aNaNReshapeShapeIsAnErrorNotATrap() {
    check("reshape_float_nan.onnx", "node 'O' (Reshape): the shape: NaN is not a whole number below 2^53")
  }

  @Test func aHugeFloatReshapeShapeIsAnErrorNotATrap() {
    check("reshape_float_big.onnx", "node 'O' (Reshape): the shape: 1.0000000150474662e+30 is not a whole number below 2^53")
  }

  @Test func aHugeIntegerReshapeShapeIsNamedWithoutSwiftTypeNames() {
    check("reshape_huge.onnx", "node 'O' (Reshape): the shape: 4611686018427387904 is not a whole number below 2^53")
  }

  @Test func aNaNSliceStartIsAnErrorNotATrap() {
    check("slice_float_nan.onnx", "node 'O' (Slice): the starts: NaN is not a whole number")
  }

  @Test func anInfiniteSqueezeAxisIsAnErrorNotATrap() {
    check("squeeze_axes_input_inf.onnx", "node 'O' (Squeeze): the axes: inf is not a whole number below 2^53")
  }

  @Test func aNegativeAxisIsCheckedAgainstTheLowerBound() {
    check("squeeze_neg10.onnx", "node 'O' (Squeeze): axis -10 is out of range for a tensor of 4 axes (from -4 to 3)")
  }

  @Test func aHugeUnsqueezeAxisIsRefusedNotClamped() {
    check("unsqueeze_bad.onnx", "node 'O' (Unsqueeze): axis 4611686018427387904 is out of range for a tensor of 4 axes (from -4 to 3)")
  }
}
