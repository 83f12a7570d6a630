// The constant/shape folder and the layout tracker on their own: symbolic sizes, each folded
// operator's semantics (ONNX's, including its edge cases), and every check that turns a bad
// number into an error.

import Testing

@testable import GruccCore

@Suite struct ShapeFolderTests {
  typealias S = SymbolicInt
  let b = SymbolicInt.batch
  let t = SymbolicInt.time

  func ints(_ v: [Int], dims: [Int]? = nil) -> FoldedTensor {
    FoldedTensor(dims: dims ?? [v.count], kind: .integer, numbers: v.map(Double.init))
  }

  func message(_ body: () throws -> Void) -> String {
    do {
      try body()
      return "no error"
    } catch {
      return (error as? ImportError)?.message ?? "\(error)"
    }
  }

  @Test func symbolicIntegers() throws {
    let twoB = (S(2) * b)!
    let twoBT = (twoB * t)!
    #expect(twoBT.description == "2·batch·time")
    let minusSix = (twoBT + S(-6))!
    #expect(minusSix.description == "2·batch·time - 6")
    #expect(twoBT.dividedExactly(by: b) == (S(2) * t)!)
    #expect(twoBT.dividedExactly(by: S(4)) == nil && b.dividedExactly(by: t) == nil)
    #expect(twoBT.evaluate(batch: 3, time: 5) == 30 && twoBT.evaluate(batch: 3, time: nil) == nil)
    #expect(b.sign == 1 && (b - S(1))?.sign == nil && (S(0) - b)?.sign == -1 && S(0).sign == 0)
    #expect((S(Int.max) + S(1)) == nil && (S(Int.max) * S(2)) == nil && (-S(Int.min)) == nil)
    #expect(S(7).constant == 7 && b.constant == nil && (b - b)?.constant == 0)
  }

  @Test func arithmeticAndComparisons() throws {
    let n = FoldedScalar.number
    #expect(try ShapeFolder.arithmetic("Div", n(7), n(-2), kind: .integer) == n(-3))
    #expect(try ShapeFolder.arithmetic("Div", n(7), n(2), kind: .float) == n(3.5))
    #expect(try ShapeFolder.arithmetic("Mod", n(-7), n(3), kind: .integer) == n(2))
    #expect(try ShapeFolder.arithmetic("Mod", n(-7), n(3), kind: .integer, fmod: true) == n(-1))
    #expect(try ShapeFolder.arithmetic("Mul", .symbol(b), n(6), kind: .integer) == .symbol((b * S(6))!))
    #expect(try ShapeFolder.arithmetic("Div", .symbol((b * S(6))!), n(3), kind: .integer) == .symbol((b * S(2))!))
    #expect(try ShapeFolder.arithmetic("Sub", .symbol(b), .symbol(b), kind: .integer) == n(0))
    #expect(try ShapeFolder.arithmetic("Max", .symbol(b), n(1), kind: .integer) == .symbol(b))
    #expect(try ShapeFolder.compare("Equal", .symbol(b), n(-1)) == n(0))
    #expect(try ShapeFolder.compare("Greater", .symbol(b), n(0)) == n(1))
    #expect(try ShapeFolder.compare("Less", n(.nan), n(1)) == n(0))
    // B, T ≥ 1: batch ≥ 1 always, time < batch·time + time always.
    #expect(try ShapeFolder.compare("GreaterOrEqual", .symbol(b), n(1)) == n(1))
    #expect(try ShapeFolder.compare("Less", .symbol(t), .symbol(((b * t)! + t)!)) == n(1))
    #expect(try ShapeFolder.arithmetic("Min", .symbol(b), n(1), kind: .integer) == n(1))
    #expect(message { _ = try ShapeFolder.arithmetic("Div", n(1), n(0), kind: .integer) } == "Div divides the integer 1 by zero")
    #expect(message { _ = try ShapeFolder.arithmetic("Mul", n(4_503_599_627_370_496), n(4), kind: .integer) }
      == "Mul overflows: 18014398509481984 is too large")
    #expect(message { _ = try ShapeFolder.compare("Equal", .symbol(b), n(3)) }
      == "Equal compares batch with 3, which depends on the batch size or the number of steps")
    #expect(message { _ = try ShapeFolder.arithmetic("Max", .symbol(b), .symbol(t), kind: .integer) }
      == "Max of batch and time depends on the batch size or the number of steps")
    #expect(message { _ = try ShapeFolder.arithmetic("Add", .symbol(b), n(0.5), kind: .float) }
      == "Add of batch and 0.5: a value that depends on the batch size or the number of steps meets one that is not a whole number")
  }

  @Test func conversionsToIntegersAreChecked() throws {
    let f = { (v: [Double]) in FoldedTensor(dims: [v.count], kind: .float, numbers: v) }
    #expect(try ShapeFolder.integers(f([3, -1, 0]), "the shape") == [3, -1, 0])
    for (bad, text) in [(Double.nan, "NaN"), (.infinity, "inf"), (1e30, "1e+30"), (2.5, "2.5"), (9_007_199_254_740_992, "9007199254740992")] {
      #expect(message { _ = try ShapeFolder.integers(f([bad]), "the shape") } == "the shape: \(text) is not a whole number below 2^53")
    }
    #expect(message { _ = try ShapeFolder.integers(FoldedTensor.vector([.symbol(b)]), "the axes") }
      == "the axes: batch depends on the batch size or the number of steps; it must be a constant here")
    // Slice bounds: "to the end" may be any huge number, even INT64_MAX rounded to 2^63.
    #expect(try ShapeFolder.bounds(f([9.223372036854775807e18, -9.3e18, .infinity]), "the ends") == [1 << 62, -(1 << 62), 1 << 62] as [Int])
    #expect(message { _ = try ShapeFolder.bounds(f([.nan]), "the starts") } == "the starts: NaN is not a whole number")
    #expect(try ShapeFolder.cast(f([2.9, -2.9]), to: .int64).numbers == [2, -2])
    #expect(try ShapeFolder.cast(FoldedTensor.vector([.symbol(b), .number(0)]), to: .bool).numbers == [1, 0])
    #expect(message { _ = try ShapeFolder.cast(f([1e300]), to: .int32) } == "Cast of 1e+300 to INT32 has no integer value grucc can use")
  }

  @Test func axesAreCheckedAgainstBothBounds() throws {
    #expect(try ShapeFolder.axis(-3, rank: 3) == 0 && ShapeFolder.axis(2, rank: 3) == 2)
    #expect(message { _ = try ShapeFolder.axis(-4, rank: 3) } == "axis -4 is out of range for a tensor of 3 axes (from -3 to 2)")
    #expect(message { _ = try ShapeFolder.axis(3, rank: 3) } == "axis 3 is out of range for a tensor of 3 axes (from -3 to 2)")
    #expect(message { _ = try ShapeFolder.axis(1 << 62, rank: 3) }.hasPrefix("axis 4611686018427387904 is out of range"))
    #expect(try ShapeFolder.unsqueeze([2, 3], axes: [-1, 0]) == [1, 2, 3, 1])
    #expect(try ShapeFolder.squeeze([1, 2, 1], axes: nil) == [2] && ShapeFolder.squeeze([1, 2, 1], axes: [-1]) == [1, 2])
    #expect(message { _ = try ShapeFolder.squeeze([1, 2], axes: [1]) } == "axis 1 has size 2, not 1")
  }

  @Test func structuralOperators() throws {
    let m = ints([0, 1, 2, 3, 4, 5], dims: [2, 3])
    #expect(try ShapeFolder.transpose(m, perm: nil).numbers == [0, 3, 1, 4, 2, 5])
    #expect(try ShapeFolder.gather(m, axis: 1, indices: ints([-1, 0])).numbers == [2, 0, 5, 3])
    #expect(try ShapeFolder.gather(m, axis: 0, indices: ints([1], dims: [])).dims == [3])
    #expect(message { _ = try ShapeFolder.gather(m, axis: 1, indices: ints([3])) } == "index 3 is out of range for an axis of size 3")
    #expect(try ShapeFolder.slice(m, starts: [-1], ends: [-1 << 62], axes: [1], steps: [-1]).numbers == [2, 1, 0, 5, 4, 3])
    #expect(try ShapeFolder.slice(m, starts: [1], ends: [1 << 62], axes: nil, steps: nil).numbers == [3, 4, 5])
    #expect(message { _ = try ShapeFolder.slice(m, starts: [0], ends: [1], axes: [0], steps: [0]) } == "a slice step of 0")
    #expect(try ShapeFolder.concat([m, ints([6, 7, 8], dims: [1, 3])], axis: 0).dims == [3, 3])
    #expect(try ShapeFolder.reduce("ReduceProd", m, axes: [1], keepDims: false).numbers == [0, 60])
    #expect(try ShapeFolder.reduce("ReduceSum", m, axes: nil, keepDims: true).dims == [1, 1])
    #expect(try ShapeFolder.range(5, 0, -2, kind: .integer).numbers == [5, 3, 1])
    #expect(message { _ = try ShapeFolder.range(0, 1e12, 1, kind: .integer) }.hasSuffix("would have 1000000000000 elements"))
    #expect(try ShapeFolder.elementwise([m, ints([10, 20, 30])], kind: .integer) { (x) throws(ImportError) in
      try ShapeFolder.arithmetic("Add", x[0], x[1], kind: .integer)
    }.numbers == [10, 21, 32, 13, 24, 35])
    #expect(message { _ = try ShapeFolder.broadcast([2, 3], [2]) } == "shapes [2, 3] and [2] do not broadcast")
  }

  @Test func reshapeTargetsAndExpandShapes() throws {
    #expect(try ShapeFolder.reshapeTarget([t, b, S(2), S(3)], [S(0), S(0), S(-1)], allowZero: false) == [t, b, S(6)])
    #expect(try ShapeFolder.reshapeTarget([b, t, S(6)], [S(-1), S(6)], allowZero: false) == [(b * t)!, S(6)])
    #expect(message { _ = try ShapeFolder.reshapeTarget([b, S(6)], [S(-1), S(-1)], allowZero: false) } == "the new shape has more than one -1")
    #expect(message { _ = try ShapeFolder.reshapeTarget([b, S(6)], [S(-1), S(4)], allowZero: false) }
      == "the new shape [-1, 4] does not divide the input's [batch, 6]")
    #expect(try ShapeFolder.expandShape([S(1), S(3)], [b, S(1)]) == [b, S(3)])
    #expect(try ShapeFolder.expandShape([S(2), S(3)], [S(2), b], sizes: DeclaredSizes(batch: 3, time: nil)) == [S(2), b])
    #expect(message { _ = try ShapeFolder.expandShape([S(2)], [b]) } == "shape [2] does not expand to [batch]")
  }

  @Test func batchOrdersCancel() {
    let p = BatchOrder(sort: "p")
    #expect(p.then(p.inverse).isIdentity && p.inverse.then(p).isIdentity)
    #expect(!p.then(p).isIdentity && !p.then(BatchOrder(sort: "q").inverse).isIdentity)
    #expect(p.description == "sorted by length")
  }
}

@Suite struct DataLayoutTests {
  /// A value over one part of `features` columns.
  func value(_ slots: [Slot], features: Int) -> DataValue {
    DataValue(slots: slots, elements: (0..<features).map { Element(part: 0, column: $0) })
  }

  func message(_ body: () throws -> Void) -> String {
    do {
      try body()
      return "no error"
    } catch {
      return (error as? ImportError)?.message ?? "\(error)"
    }
  }

  @Test func transposeMovesTheElementsOfTheFixedAxes() throws {
    // GRU Y [T, D=2, B, H=3] → [T, B, 3, 2]: the features in (h, d) order.
    let y = value([.time, .fixed(2), .batch, .fixed(3)], features: 6)
    let t = try DataLayout.transpose(y, perm: [0, 2, 3, 1])
    #expect(t.slots == [.time, .batch, .fixed(3), .fixed(2)] && t.elements.map(\.column) == [0, 3, 1, 4, 2, 5])
  }

  @Test func reshapesRegroupFixedAxesBetweenTheBatchAndTimeAxes() throws {
    let sizes = DeclaredSizes()
    let y = value([.time, .batch, .fixed(2), .fixed(3)], features: 6)
    let merged = try DataLayout.reshape(y, target: [.time, .batch, SymbolicInt(6)], allowZero: false, sizes: sizes)
    #expect(merged.slots == [.time, .batch, .fixed(6)] && merged.elements == y.elements)
    let split = try DataLayout.reshape(merged, target: [SymbolicInt(0), SymbolicInt(0), SymbolicInt(1), SymbolicInt(-1), SymbolicInt(2)], allowZero: false, sizes: sizes)
    #expect(split.slots == [.time, .batch, .fixed(1), .fixed(3), .fixed(2)])
    // A graph exported for a fixed batch of 3 and 5 steps writes numbers for both.
    let fixed = try DataLayout.reshape(y, target: [SymbolicInt(5), SymbolicInt(3), SymbolicInt(6)], allowZero: false, sizes: DeclaredSizes(batch: 3, time: 5))
    #expect(fixed.slots == [.time, .batch, .fixed(6)])
    // Batch and time flattened into one axis and back.
    let seq = value([.batch, .time, .fixed(4)], features: 4)
    let flat = try DataLayout.reshape(seq, target: [SymbolicInt(-1), SymbolicInt(4)], allowZero: false, sizes: sizes)
    #expect(flat.slots == [.merged(batchFirst: true), .fixed(4)])
    let back = try DataLayout.reshape(flat, target: [.batch, .time, SymbolicInt(4)], allowZero: false, sizes: sizes)
    #expect(back.slots == [.batch, .time, .fixed(4)])
    #expect(message { _ = try DataLayout.reshape(seq, target: [.time, .batch, SymbolicInt(4)], allowZero: false, sizes: sizes) }
      .hasPrefix("reshaping [batch, time, 4] to [time, batch, 4] mixes the batch or time axis with others"))
    #expect(message { _ = try DataLayout.reshape(seq, target: [.batch, SymbolicInt(-1)], allowZero: false, sizes: sizes) }
      .hasPrefix("reshaping [batch, time, 4] to [batch, 4·time] mixes"))
  }

  @Test func selectsAndConcatsWorkOnTheFixedAxes() throws {
    let h = value([.fixed(2), .batch, .fixed(3)], features: 6)
    let backward = try DataLayout.select(h, axis: 0, picks: [1], keepAxis: false)
    #expect(backward.slots == [.batch, .fixed(3)] && backward.elements.map(\.column) == [3, 4, 5])
    var other = value([.fixed(1), .batch, .fixed(3)], features: 3)
    other.elements = other.elements.map { Element(part: 1, column: $0.column) }
    let stacked = try DataLayout.concat([h, other], axis: 0)
    #expect(stacked.slots == [.fixed(3), .batch, .fixed(3)] && stacked.parts == [0, 1])
    #expect(message { _ = try DataLayout.concat([h, h], axis: 1) } == "Concat along the batch axis; grucc cannot join batches or sequences")
    #expect(message { _ = try DataLayout.squeeze(h, axes: [1]) } == "axis 1 of [2, batch, 3] is the batch axis, which is not of size 1")
    #expect(message { _ = try DataLayout.transpose(h, perm: [0, 0, 1]) } == "attribute 'perm' [0, 0, 1] is not a permutation of the 3 axes of [2, batch, 3]")
  }
}
