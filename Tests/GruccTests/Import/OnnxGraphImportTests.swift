// The importer on small graphs built here: each folded operator in the place exporters put it,
// the layouts the tracker follows, and every refusal's message (node, operator, reason in
// words, never a Swift type name).

import Foundation
import Testing

@testable import GruccCore

@Suite struct OnnxGraphImportTests {
  typealias G = OnnxGraphBuilder

  /// Y [T, 1, B, 3] of a one-way GRU back to [B, T, 3], as exporters do.
  static func sequenceOut(_ g: inout G, _ y: String) -> String {
    let squeezed = g.node("Squeeze", [y, g.ints([1])])
    return g.node("Transpose", [squeezed], attributes: [G.intsAttribute("perm", [1, 0, 2])])
  }

  // MARK: Folded shape computations

  @Test func shapeWithStartAndEndFeedsAReshape() throws {
    var g = G()
    let (y, _) = g.gru()
    let t = g.node("Shape", [y], attributes: [G.intAttribute("start", 0), G.intAttribute("end", 1)])
    let b = g.node("Shape", [y], attributes: [G.intAttribute("start", -2), G.intAttribute("end", -1)])
    let target = g.node("Concat", [t, b, g.ints([-1])], attributes: [G.intAttribute("axis", 0)])
    let r = g.node("Reshape", [y, target])
    g.node("Transpose", [r], name: "out", attributes: [G.intsAttribute("perm", [1, 0, 2])])
    g.output("out")
    #expect(g.result().contains("output out = gru1"), "\(g.result())")
    #expect(try g.imported().get().notes.isEmpty)
  }

  @Test func zeroInitialStatesFromShapeGatherUnsqueezeConcatAndConstantOfShape() {
    var g = G()
    let shape = g.node("Shape", ["x"])
    let batch = g.node("Gather", [shape, g.ints([0], dims: [])], attributes: [G.intAttribute("axis", 0)])
    let unsqueezed = g.node("Unsqueeze", [batch, g.ints([0])])
    let dims = g.node("Concat", [g.ints([1]), unsqueezed, g.ints([3])], attributes: [G.intAttribute("axis", 0)])
    let zeros = g.node("ConstantOfShape", [dims])
    let (y, _) = g.gru(initial: zeros)
    g.output(Self.sequenceOut(&g, y))
    let text = g.result()
    #expect(text.contains("gru gru1 = x -> hidden 3") && !text.contains("initial given"), "\(text)")
  }

  @Test func expandOfAScalarZeroToASymbolicShapeIsAZeroState() {
    var g = G()
    let shape = g.node("Shape", ["x"], attributes: [G.intAttribute("end", 1)])
    let dims = g.node("Concat", [g.ints([1]), shape, g.ints([3])], attributes: [G.intAttribute("axis", 0)])
    let zeros = g.node("Expand", [g.floats([0], dims: []), dims])
    let (_, yh) = g.gru(initial: zeros)
    g.node("Squeeze", [yh, g.ints([0])], name: "h")
    g.output("h")
    #expect(g.result().contains("output h = state(gru1)") && !g.result().contains("initial given"), "\(g.result())")
  }

  @Test func arithmeticOnShapes() {
    // [1, B, 3] → [B, 1·3] with the target computed by Gather, Mul, Div, Add, Sub, Cast and Concat.
    var g = G()
    let (_, yh) = g.gru()
    let s = g.node("Shape", [yh])
    let zero = g.ints([0], dims: [])
    let d0 = g.node("Gather", [s, zero])
    let d1 = g.node("Gather", [s, g.ints([1], dims: [])])
    let d2 = g.node("Gather", [s, g.ints([2], dims: [])])
    let features = g.node("Mul", [d0, d2])
    let twiceBatch = g.node("Add", [d1, d1])
    let batch = g.node("Div", [twiceBatch, g.ints([2], dims: [])])
    let same = g.node("Sub", [g.node("Add", [batch, features]), features])
    let asFloat = g.node("Cast", [same], attributes: [G.intAttribute("to", 1)])
    let back = g.node("Cast", [asFloat], attributes: [G.intAttribute("to", 7)])
    let target = g.node("Concat", [g.node("Unsqueeze", [back, g.ints([0])]), g.node("Unsqueeze", [features, g.ints([0])])],
                        attributes: [G.intAttribute("axis", 0)])
    g.node("Reshape", [yh, target], name: "h")
    g.output("h")
    #expect(g.result().contains("output h = state(gru1)"), "\(g.result())")
  }

  @Test func equalWhereRangeReduceProdAndSizeFold() {
    // Where(Equal(target, -1), 3, target) with target [-1]: the -1 becomes 3; Range and
    // ReduceProd give the other dimension, Size checks a count.
    var g = G()
    let (_, yh) = g.gru()
    let target = g.ints([0, -1])
    let isRest = g.node("Equal", [target, g.ints([-1])])
    let fixed = g.node("Where", [isRest, g.ints([3]), target])
    let s = g.node("Shape", [yh])
    let prod = g.node("ReduceProd", [g.node("Slice", [s, g.ints([0]), g.ints([1])])], attributes: [G.intAttribute("keepdims", 1)])
    let r = g.node("Range", [g.ints([0], dims: []), g.ints([2], dims: []), g.ints([1], dims: [])])
    let two = g.node("Size", [r])
    let one = g.node("Sub", [two, prod])  // 2 - 1
    let t2 = g.node("Mul", [fixed, one])
    let squeezed = g.node("Squeeze", [yh, g.ints([0])])
    g.node("Reshape", [squeezed, t2], name: "h")
    g.output("h")
    #expect(g.result().contains("output h = state(gru1)"), "\(g.result())")
  }

  @Test func flattenAndSlicesWithNegativeStepsOnConstants() {
    var g = G()
    let (_, yh) = g.gru()
    let t = g.node("Transpose", [yh], attributes: [G.intsAttribute("perm", [1, 0, 2])])
    let reversed = g.node("Slice", [g.ints([3, 1]), g.ints([-1]), g.ints([-3]), g.ints([0]), g.ints([-1])])  // [1, 3]
    let viaTarget = g.node("Reshape", [t, g.node("Concat", [g.ints([0]), reversed], attributes: [G.intAttribute("axis", 0)])])  // [B, 1, 3]
    g.node("Flatten", [viaTarget], name: "h", attributes: [G.intAttribute("axis", 1)])
    g.output("h")
    #expect(g.result().contains("output h = state(gru1)"), "\(g.result())")
  }

  // MARK: The data path

  @Test func hnOfStackedLayersIsOneOutputPerLayerAndItsLastRowIsTheLastLayer() throws {
    var g = G()
    let (y1, h1) = g.gru(name: "l1")
    let (_, h2) = g.gru(Self.sequenceOut(&g, y1), features: 3, name: "l2")
    g.node("Concat", [h1, h2], name: "hn", attributes: [G.intAttribute("axis", 0)])
    let last = g.node("Gather", ["hn", g.ints([-1], dims: [])], attributes: [G.intAttribute("axis", 0)])
    g.node("Gemm", [last, g.floats([1, 2, 3, 4, 5, 6], dims: [2, 3]), g.floats([0.5, -0.5], dims: [2])], name: "fc",
           attributes: [G.intAttribute("transB", 1)])
    g.output("hn")
    g.output("fc")
    let m = try g.imported().get()
    #expect(m.source.contains("output hn_1 = state(gru1)\noutput hn_2 = state(gru2)"), "\(m.source)")
    #expect(m.source.contains("let dense1 = dense(state(gru2), 2)") || m.source.contains("= dense(state(gru2), 2)"), "\(m.source)")
    let hn = m.outputs.filter { $0.framework == "hn" }
    #expect(hn.map(\.columns) == [[0, 1, 2], [3, 4, 5]] && hn[0].axes == [.fixed(2), .batch, .fixed(3)])
  }

  @Test func aDenseOnOneDirectionOfABidirectionalStateGetsZeroWeightsForTheOther() throws {
    var g = G()
    let (_, yh) = g.gru(directions: 2)
    let backward = g.node("Gather", [yh, g.ints([1], dims: [])], attributes: [G.intAttribute("axis", 0)])
    g.node("Gemm", [backward, g.floats([1, 2, 3], dims: [3, 1]), g.floats([0.25], dims: [1])], name: "fc")
    g.output("fc")
    let m = try g.imported().get()
    #expect(m.source.contains("dense(state(gru1), 1)"), "\(m.source)")
    let w = try #require(m.tensors.first { $0.name.hasSuffix(".w") })
    #expect(w.shape == [1, 6] && w.values == [0, 0, 0, 1, 2, 3] && m.tensors.first { $0.name.hasSuffix(".b") }?.values == [0.25])
  }

  @Test func timeDistributedFlattensBatchAndTimeAroundItsMatMul() throws {
    var g = G()
    let (y, _) = g.gru()
    let seq = Self.sequenceOut(&g, y)
    let flat = g.node("Reshape", [seq, g.ints([-1, 3])])
    let projected = g.node("MatMul", [flat, g.floats([1, 0, 0, 1, 1, 1], dims: [3, 2])])
    let biased = g.node("Add", [projected, g.floats([0.5, 0.25], dims: [2])])
    let shape = g.node("Shape", [seq], attributes: [G.intAttribute("start", 1), G.intAttribute("end", 2)])
    g.node("Reshape", [biased, g.node("Concat", [g.ints([-1]), shape, g.ints([2])], attributes: [G.intAttribute("axis", 0)])], name: "frames")
    g.output("frames")
    let m = try g.imported().get()
    #expect(m.source.contains("dense(gru1, 2)") && m.source.contains("output frames = "), "\(m.source)")
    #expect(m.tensors.first { $0.name.hasSuffix(".b") }?.values == [0.5, 0.25])
  }

  @Test func initialStatesSlicedFromOneInputGoToEachLayer() throws {
    var g = G()
    g.input("h0", elemType: 1, dims: [.n(2), .sym("batch"), .n(3)])
    let first = g.node("Slice", ["h0", g.ints([0]), g.ints([1]), g.ints([0])])
    let second = g.node("Slice", ["h0", g.ints([1]), g.ints([2]), g.ints([0])])
    let (y1, _) = g.gru(initial: first, name: "l1")
    let (y2, _) = g.gru(Self.sequenceOut(&g, y1), features: 3, initial: second, name: "l2")
    g.node("Identity", [Self.sequenceOut(&g, y2)], name: "y")
    g.output("y")
    let m = try g.imported().get()
    #expect(m.source.contains("initial given") && m.inputs.map(\.grucc) == ["x", "gru1.h0", "gru2.h0"], "\(m.source)")
    #expect(m.inputs[1].columns == [0, 1, 2] && m.inputs[2].columns == [3, 4, 5] && m.inputs[2].framework == "h0")
    #expect(m.notes.contains { $0.contains("gives grucc's 'gru2.h0' [B, 3] from its elements [1:2, 0:3]") }, "\(m.notes)")
    // The map gives each layer its rows: h0 [2, B, 3] with B = 2.
    let h0 = (0..<12).map(Double.init)
    #expect(m.inputs[2].gruccArray(from: h0, shape: [2, 2, 3], timeMajor: false) == ArrayValue(shape: [2, 3], values: [6, 7, 8, 9, 10, 11]))
  }

  /// What enforce_sorted=False exports: sort the batch by length (TopK), gather x and run the
  /// GRU on sorted lengths, then gather the outputs back by the inverse (ScatterElements).
  @Test func theSortAndUnsortOfPackedSequencesCancel() throws {
    var g = G()
    g.input("lengths", elemType: 7, dims: [.sym("batch")])
    let n = g.node("Gather", [g.node("Shape", ["lengths"]), g.ints([-1])])
    let sorted = g.fresh("sorted")
    let order = g.fresh("order")
    g.node("TopK", ["lengths", n], outputs: [sorted, order], attributes: [G.intAttribute("axis", -1), G.intAttribute("largest", 1)])
    let xs = g.node("Gather", ["x", order], attributes: [G.intAttribute("axis", 0)])
    let count = g.node("Cast", [g.node("ReduceProd", [g.node("Shape", [order])], attributes: [G.intAttribute("keepdims", 0)])],
                       attributes: [G.intAttribute("to", 7)])
    let iota = g.node("Range", [g.ints([0], dims: []), count, g.ints([1], dims: [])])
    let zeros = g.node("ConstantOfShape", [g.node("Shape", [order])])
    let inverse = g.node("ScatterElements", [zeros, order, iota], attributes: [G.intAttribute("axis", 0)])
    let (y, yh) = g.gru(xs, lengths: g.node("Cast", [sorted], attributes: [G.intAttribute("to", 6)]))
    g.node("Gather", [Self.sequenceOut(&g, y), inverse], name: "y", attributes: [G.intAttribute("axis", 0)])
    g.node("Gather", [yh, inverse], name: "h", attributes: [G.intAttribute("axis", 1)])
    g.output("y")
    g.output("h")
    let m = try g.imported().get()
    #expect(m.source.contains("input x[2], layout batch-major, lengths lengths"), "\(m.source)")
    #expect(m.source.contains("output y = gru1\noutput h = state(gru1)"), "\(m.source)")
    // Without the unsort, the outputs would be in sorted order: refused.
    var unsorted = g
    unsorted.outputs = []
    unsorted.output(yh)
    #expect(unsorted.result().contains("graph output 'gru_Yh' has its sequences sorted by length, not in the input's order"), "\(unsorted.result())")
  }

  @Test func aSumOverTimeDividedByTheLengthsIsGruccsMean() {
    var g = G()
    g.input("lengths", elemType: 7, dims: [.sym("batch")])
    let (y, _) = g.gru(lengths: "lengths")
    let seq = Self.sequenceOut(&g, y)
    let sum = g.node("ReduceSum", [seq, g.ints([1])], attributes: [G.intAttribute("keepdims", 0)])
    let divisor = g.node("Cast", [g.node("Unsqueeze", ["lengths", g.ints([1])])], attributes: [G.intAttribute("to", 1)])
    g.node("Div", [sum, divisor], name: "avg")
    g.output("avg")
    #expect(g.result().contains("output avg = mean(gru1)"), "\(g.result())")
  }

  // MARK: Refusals

  /// Each graph's import fails with a message naming the node, the operator and the reason.
  @Test(arguments: Refusal.all) func refusalsNameTheNodeTheOperatorAndTheReason(_ r: Refusal) {
    var g = G()
    r.build(&g)
    let text = g.result()
    #expect(text.hasPrefix("error: "), "\(r.name): imported:\n\(text)")
    #expect(text.contains(r.expected), "\(r.name): \(text)")
    for swiftism in ["GruccCore", "Optional(", "ImportDim", ".known(", "Slot.", "FoldedScalar", "SymbolicInt("] {
      #expect(!text.contains(swiftism), "\(r.name): \(text)")
    }
  }

  struct Refusal: Sendable, CustomStringConvertible {
    var name: String
    var expected: String
    var build: @Sendable (inout G) -> Void
    var description: String { name }

    static let all: [Refusal] = [
      Refusal(name: "squeeze of the batch axis", expected: "node 'sq' (Squeeze): axis 2 of [time, 1, batch, 3] is the batch axis, which is not of size 1") { g in
        let (y, _) = g.gru()
        g.node("Squeeze", [y, g.ints([2])], name: "sq")
        g.output("sq")
      },
      Refusal(name: "reshape mixing batch and features", expected: "node 'r' (Reshape): reshaping [1, batch, 3] to [3, batch] mixes the batch or time axis with others") { g in
        let (_, yh) = g.gru()
        g.node("Reshape", [yh, g.node("Concat", [g.ints([3]), g.node("Shape", [yh], attributes: [G.intAttribute("start", 1), G.intAttribute("end", 2)])], attributes: [G.intAttribute("axis", 0)])], name: "r")
        g.output("r")
      },
      Refusal(name: "concat along time", expected: "node 'c' (Concat): Concat along the time axis; grucc cannot join batches or sequences") { g in
        let (y, _) = g.gru()
        g.node("Concat", [y, y], name: "c", attributes: [G.intAttribute("axis", 0)])
        g.output("c")
      },
      Refusal(name: "a step other than the last", expected: "node 'g' (Gather): Gather of step 2 of a sequence; grucc can take only the last step") { g in
        let (y, _) = g.gru()
        g.node("Gather", [y, g.ints([2], dims: [])], name: "g", attributes: [G.intAttribute("axis", 0)])
        g.output("g")
      },
      Refusal(name: "some sequences of the batch", expected: "node 'g' (Gather): Gather of some sequences of the batch (indices [0]); grucc takes whole batches") { g in
        let (_, yh) = g.gru()
        g.node("Gather", [yh, g.ints([0])], name: "g", attributes: [G.intAttribute("axis", 1)])
        g.output("g")
      },
      Refusal(name: "elementwise product of data", expected: "node 'm' (Mul): Mul of a tensor computed from the input and a constant a scalar: grucc computes with the data only through its layers and heads") { g in
        let (_, yh) = g.gru()
        g.node("Mul", [yh, g.floats([2], dims: [])], name: "m")
        g.output("m")
      },
      Refusal(name: "range of the number of steps", expected: "node 'r' (Range): Range(0, time, 1) has a length that depends on the batch size or the number of steps; grucc folds only Range(0, batch, 1)") { g in
        let t = g.node("Gather", [g.node("Shape", ["x"]), g.ints([1], dims: [])])
        g.node("Range", [g.ints([0], dims: []), t, g.ints([1], dims: [])], name: "r")
        g.gru()
        g.output("gru_Y")
      },
      Refusal(name: "comparing batch and time", expected: "node 'e' (Equal): Equal compares batch with time, which depends on the batch size or the number of steps") { g in
        let s = g.node("Shape", ["x"])
        g.node("Equal", [g.node("Gather", [s, g.ints([0], dims: [])]), g.node("Gather", [s, g.ints([1], dims: [])])], name: "e")
        g.gru()
        g.output("gru_Y")
      },
      Refusal(name: "an inexact division of the batch", expected: "node 'd' (Div): Div of batch by 2 is not a whole number for every batch size and number of steps") { g in
        let b = g.node("Gather", [g.node("Shape", ["x"]), g.ints([0], dims: [])])
        g.node("Div", [b, g.ints([2], dims: [])], name: "d")
        g.gru()
        g.output("gru_Y")
      },
      Refusal(name: "a NaN cast to an integer", expected: "node 'c' (Cast): Cast of NaN to INT64 has no integer value grucc can use") { g in
        g.node("Cast", [g.floats([.nan], dims: [1])], name: "c", attributes: [G.intAttribute("to", 7)])
        g.gru()
        g.output("gru_Y")
      },
      Refusal(name: "a non-zero constant initial state", expected: "node 'gru' (GRU): initial_h is a constant 0.5 of shape [1, batch, 3]; grucc's initial state is zero or given as a graph input") { g in
        let dims = g.node("Concat", [g.ints([1]), g.node("Shape", ["x"], attributes: [G.intAttribute("end", 1)]), g.ints([3])], attributes: [G.intAttribute("axis", 0)])
        let h = g.node("Expand", [g.floats([0.5], dims: []), dims])
        g.gru(initial: h)
        g.output("gru_Y")
      },
      Refusal(name: "an initial state of the wrong shape", expected: "node 'gru' (GRU): initial_h is [2, batch, 3], but the GRU needs [1, batch, 3] (directions, batch, hidden_size)") { g in
        g.input("h0", elemType: 1, dims: [.n(2), .sym("batch"), .n(3)])
        g.gru(initial: "h0")
        g.output("gru_Y")
      },
      Refusal(name: "an initial state used elsewhere", expected: "node 't' (Tanh): the initial state input 'h0' reaches Tanh; grucc passes initial states only to GRUs") { g in
        g.input("h0", elemType: 1, dims: [.n(1), .sym("batch"), .n(3)])
        g.gru(initial: "h0")
        g.node("Tanh", ["h0"], name: "t")
        g.output("t")
      },
      Refusal(name: "lengths added to data", expected: "node 'a' (Add): Add of a tensor computed from the input and the sequence lengths") { g in
        g.input("lengths", elemType: 7, dims: [.sym("batch")])
        let (_, yh) = g.gru(lengths: "lengths")
        g.node("Add", [yh, "lengths"], name: "a")
        g.output("a")
      },
      Refusal(name: "an input that is nothing grucc takes", expected: "graph input 'extra' is neither the sequence ('x'), its lengths, nor a GRU's initial state") { g in
        g.input("extra", elemType: 1, dims: [.n(4), .sym("batch")])
        g.gru()
        g.output("gru_Y")
      },
      Refusal(name: "constant sequence lengths", expected: "node 'gru' (GRU): sequence_lens is a constant [3]; grucc takes the lengths as a graph input [batch]") { g in
        g.gru(lengths: g.ints([5, 5, 5]))
        g.output("gru_Y")
      },
      Refusal(name: "a mean over padding", expected: "node 'm' (ReduceMean): ReduceMean over time with sequence lengths counts the padded steps, and grucc's mean does not; divide a ReduceSum by the lengths instead") { g in
        g.input("lengths", elemType: 7, dims: [.sym("batch")])
        let (y, _) = g.gru(lengths: "lengths")
        g.node("ReduceMean", [y], name: "m", attributes: [G.intsAttribute("axes", [0])])
        g.output("m")
      },
      Refusal(name: "the last step with lengths", expected: "node 'l' (Gather): Gather takes step T-1, which with sequence lengths is padding for the shorter sequences") { g in
        g.input("lengths", elemType: 7, dims: [.sym("batch")])
        let (y, _) = g.gru(lengths: "lengths")
        g.node("Gather", [y, g.ints([-1], dims: [])], name: "l", attributes: [G.intAttribute("axis", 0)])
        g.output("l")
      },
      Refusal(name: "an output that does not depend on the input", expected: "graph output 's' is a constant [3], which does not depend on the input") { g in
        g.gru()
        g.node("Shape", ["gru_Y"], name: "s", attributes: [G.intAttribute("start", 1)])
        g.output("s")
      },
      Refusal(name: "an output with some features of a state", expected: "graph output 'b' holds only some of the 6 features of state(gru1) (not feature 0); grucc outputs whole tensors") { g in
        let (_, yh) = g.gru(directions: 2)
        g.node("Gather", [yh, g.ints([1], dims: [])], name: "b", attributes: [G.intAttribute("axis", 0)])
        g.output("b")
      },
      Refusal(name: "a loop instead of a GRU", expected: "node 'loop' (Loop): operator 'Loop' is not supported: grucc imports recurrent layers as ONNX GRU nodes, not as loops") { g in
        g.node("Loop", ["x"], name: "loop")
        g.output("loop")
      },
      Refusal(name: "an unknown operator", expected: "node 'e' (Einsum): operator 'Einsum' is not supported; grucc imports GRU, Gemm, MatMul") { g in
        g.gru()
        g.node("Einsum", ["gru_Yh"], name: "e")
        g.output("e")
      },
      Refusal(name: "a negative axis below the rank", expected: "node 'u' (Unsqueeze): axis -5 is out of range for a tensor of 4 axes (from -4 to 3)") { g in
        let (_, yh) = g.gru()
        g.node("Unsqueeze", [yh, g.ints([-5])], name: "u")
        g.output("u")
      },
      Refusal(name: "a repeated axis", expected: "node 's' (Squeeze): axes 0 and -3 are the same axis") { g in
        let (_, yh) = g.gru()
        g.node("Squeeze", [yh, g.ints([0, -3])], name: "s")
        g.output("s")
      },
      Refusal(name: "an absurd constant of shape", expected: "node 'c' (Concat): Concat of") { g in
        let zeros = g.node("ConstantOfShape", [g.ints([1 << 40])])
        g.node("Concat", [zeros, g.ints([1])], name: "c", attributes: [G.intAttribute("axis", 0)])
        g.gru()
        g.output("gru_Y")
      },
    ]
  }
}
