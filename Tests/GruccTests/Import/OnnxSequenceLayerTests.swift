// The importer's sequence layers on small graphs built here: how ONNX's padding of Conv, Pad and
// the pools reads as grucc's causal / same / valid / pad, the tensors it writes, and every
// refusal (node named, reason in words).

import Foundation
import Testing

@testable import GruccCore

@Suite struct OnnxSequenceLayerTests {
  typealias G = OnnxGraphBuilder

  static func floatAttribute(_ name: String, _ v: Float) -> PB { ONNX.attribute(name, type: 1).float(2, v) }

  /// x [B, T, 2] → [B, 2, T] → `layer` → back to [B, T, C] → a GRU; returns the text or the error.
  static func around(
    channels: Int = 2, _ layer: (inout G, String) -> String
  ) -> String {
    var g = G()
    let ct = g.node("Transpose", ["x"], attributes: [G.intsAttribute("perm", [0, 2, 1])])
    let out = layer(&g, ct)
    let tc = g.node("Transpose", [out], attributes: [G.intsAttribute("perm", [0, 2, 1])])
    let (_, yh) = g.gru(tc, features: channels)
    g.node("Squeeze", [yh, g.ints([0])], name: "h")
    g.output("h")
    return g.result()
  }

  /// A Conv of `filters` [filters, 2/group, kernel] with the given attributes.
  static func conv(_ g: inout G, _ x: String, filters: Int = 3, kernel: Int = 3, channels: Int = 2, group: Int = 1, bias: Bool = true,
                   name: String = "/c/Conv", _ attributes: [PB]) -> String {
    let per = channels / group
    let w = g.floats((0..<(filters * per * kernel)).map { Float($0) / 10 }, dims: [Int64(filters), Int64(per), Int64(kernel)], name: "c.weight")
    let inputs = bias ? [x, w, g.floats((0..<filters).map { Float($0) }, dims: [Int64(filters)], name: "c.bias")] : [x, w]
    let groups = group == 1 ? [] : [G.intAttribute("group", Int64(group))]
    return g.node("Conv", inputs, name: name, attributes: [G.intsAttribute("kernel_shape", [Int64(kernel)])] + groups + attributes)
  }

  // MARK: Conv padding

  @Test func padsOfTheSpanMinusOneBeforeAreCausalAndAReluIsItsActivation() throws {
    var g = G()
    let ct = g.node("Transpose", ["x"], attributes: [G.intsAttribute("perm", [0, 2, 1])])
    let c = Self.conv(&g, ct, [G.intsAttribute("pads", [4, 0]), G.intsAttribute("dilations", [2])])
    let r = g.node("Relu", [c])
    let (_, yh) = g.gru(g.node("Transpose", [r], attributes: [G.intsAttribute("perm", [0, 2, 1])]), features: 3)
    g.node("Squeeze", [yh, g.ints([0])], name: "h")
    g.output("h")
    let m = try g.imported().get()
    #expect(m.source.contains("conv1d c = x -> filters 3, kernel 3, padding causal, dilation 2, activation relu\ngru gru1 = c ->"), "\(m.source)")
    let w = try #require(m.tensors.first { $0.name == "c.w" })
    #expect(w.shape == [3, 2, 3] && w.values == (0..<18).map { Double(Float($0) / 10) })
    #expect(m.tensors.first { $0.name == "c.b" }?.values == [0, 1, 2])
  }

  @Test func aPadNodeBeforeTheConvBecomesItsCausalPadding() {
    let text = Self.around(channels: 3) { g, x in
      let padded = g.node("Pad", [x, g.ints([0, 0, 2, 0, 0, 0])])
      return Self.conv(&g, padded, [])
    }
    #expect(text.contains("conv1d c = x -> filters 3, kernel 3, padding causal\n") && !text.contains("\npad "), "\(text)")
  }

  @Test func symmetricPadsAreSameOnlyForTensorFlowsSplit() {
    let same = Self.around(channels: 3) { g, x in Self.conv(&g, x, kernel: 4, [G.intsAttribute("pads", [1, 2])]) }
    #expect(same.contains("kernel 4, padding same\n"), "\(same)")
    let upper = Self.around(channels: 3) { g, x in Self.conv(&g, x, kernel: 4, [G.stringAttribute("auto_pad", "SAME_UPPER"), G.intsAttribute("strides", [2])]) }
    #expect(upper.contains("kernel 4, padding same, stride 2\n"), "\(upper)")
    // PyTorch's padding 2 with kernel 4: not TensorFlow's split, so zeros first, then a valid conv.
    let other = Self.around(channels: 3) { g, x in Self.conv(&g, x, kernel: 4, [G.intsAttribute("pads", [2, 1])]) }
    #expect(other.contains("pad c_pad = x -> before 2, after 1\nconv1d c = c_pad -> filters 3, kernel 4, padding valid\n"), "\(other)")
  }

  @Test func depthwiseWithoutBias() throws {
    let text = Self.around(channels: 4) { g, x in Self.conv(&g, x, filters: 4, group: 2, bias: false, []) }
    // x has 2 channels: groups 2 with 4 filters is PyTorch's depthwise with a multiplier of 2.
    #expect(text.contains("conv1d c = x -> filters 4, kernel 3, padding valid, groups 2, bias no\n"), "\(text)")
  }

  @Test func sameLowerWithAnEvenSpanIsRefused() {
    let text = Self.around(channels: 3) { g, x in Self.conv(&g, x, kernel: 2, [G.stringAttribute("auto_pad", "SAME_LOWER")]) }
    #expect(text.contains("node '/c/Conv' (Conv)") && text.contains("SAME_LOWER"), "\(text)")
  }

  /// Absurd windows are refused before any step count is computed from them (no overflow).
  @Test func hugeDilationsAndPadsAreRefused() {
    let dilated = Self.around(channels: 3) { g, x in Self.conv(&g, x, [G.intsAttribute("dilations", [1 << 40])]) }
    #expect(dilated.contains("(Conv): attribute 'dilations' is [1099511627776]"), "\(dilated)")
    let padded = Self.around(channels: 3) { g, x in Self.conv(&g, x, [G.intsAttribute("pads", [Int64.max / 2, Int64.max / 2])]) }
    #expect(padded.contains("(Conv): attribute 'pads'") || padded.contains("out of range"), "\(padded)")
    let pad = Self.around { g, x in g.node("Pad", [x, g.ints([0, 0, 1 << 40, 0, 0, 1 << 40])], name: "p") }
    #expect(pad.contains("node 'p' (Pad): it pads time by"), "\(pad)")
  }

  @Test func aConvOverTheFeaturesAxisIsRefused() {
    // No transpose: ONNX would convolve over the features of [B, T, C].
    var g = G()
    let c = Self.conv(&g, "x", [])
    let (_, yh) = g.gru(c, features: 3)
    g.node("Squeeze", [yh, g.ints([0])], name: "h")
    g.output("h")
    #expect(g.result().contains("(Conv): X is [batch, time, 2]; grucc's conv1d runs over time on [batch, channels, time]"), "\(g.result())")
  }

  @Test func lengthsAfterAConvAreRefused() {
    var g = G()
    g.input("lengths", elemType: 6, dims: [.sym("batch")])
    let ct = g.node("Transpose", ["x"], attributes: [G.intsAttribute("perm", [0, 2, 1])])
    let c = Self.conv(&g, ct, [G.intsAttribute("pads", [2, 0])])
    let tc = g.node("Transpose", [c], attributes: [G.intsAttribute("perm", [0, 2, 1])])
    let (_, yh) = g.gru(tc, features: 3, lengths: "lengths")
    g.node("Squeeze", [yh, g.ints([0])], name: "h")
    g.output("h")
    #expect(g.result().contains("(GRU): sequence_lens with a convolution"), "\(g.result())")
  }

  // MARK: Pad

  @Test func padRefusals() {
    let channels = Self.around { g, x in g.node("Pad", [x, g.ints([0, 1, 0, 0, 0, 0])], name: "p") }
    #expect(channels.contains("node 'p' (Pad): it pads axis 1 of [batch, 2, time], which is not time; grucc pads over time only"), "\(channels)")
    let reflect = Self.around { g, x in g.node("Pad", [x, g.ints([0, 0, 1, 0, 0, 0])], name: "p", attributes: [G.stringAttribute("mode", "reflect")]) }
    #expect(reflect.contains("node 'p' (Pad): mode 'reflect'; grucc pads with zeros only"), "\(reflect)")
    let value = Self.around { g, x in g.node("Pad", [x, g.ints([0, 0, 1, 0, 0, 0]), g.floats([0.5], dims: [])], name: "p") }
    #expect(value.contains("node 'p' (Pad): it pads with 0.5; grucc's pad adds zero steps"), "\(value)")
    let crop = Self.around { g, x in g.node("Pad", [x, g.ints([0, 0, -1, 0, 0, 0])], name: "p") }
    #expect(crop.contains("node 'p' (Pad): it pads time by [-1, 0]"), "\(crop)")
  }

  @Test func padOnTheFeaturesLayoutWithAxes() {
    // [B, T, C] padded over axis 1 (time) through the axes input (opset 18).
    var g = G()
    g.opset = 18
    let p = g.node("Pad", ["x", g.ints([3, 1]), "", g.ints([1])], name: "zp")
    let (_, yh) = g.gru(p)
    g.node("Squeeze", [yh, g.ints([0])], name: "h")
    g.output("h")
    #expect(g.result().contains("pad pad1 = x -> before 3, after 1\ngru gru1 = pad1 ->"), "\(g.result())")
  }

  // MARK: Pools

  @Test func poolPadding() {
    let counted = Self.around { g, x in
      g.node("AveragePool", [x], name: "/p/AveragePool", attributes: [
        G.intsAttribute("kernel_shape", [3]), G.intsAttribute("strides", [1]), G.intsAttribute("pads", [1, 1]),
        G.intAttribute("count_include_pad", 1)])
    }
    #expect(counted.contains("pad p_pad = x -> before 1, after 1\npool p = p_pad -> average 3, stride 1\n"), "\(counted)")
    let excluded = Self.around { g, x in
      g.node("AveragePool", [x], name: "/p/AveragePool", attributes: [G.intsAttribute("kernel_shape", [3]), G.intsAttribute("strides", [1]), G.intsAttribute("pads", [1, 1])])
    }
    #expect(excluded.contains("pool p = x -> average 3, stride 1, padding same\n"), "\(excluded)")
    let max = Self.around { g, x in
      g.node("MaxPool", [x], name: "/m/MaxPool", attributes: [G.intsAttribute("kernel_shape", [2]), G.stringAttribute("auto_pad", "SAME_UPPER")])
    }
    // ONNX's stride defaults to 1, grucc's to the window: written out.
    #expect(max.contains("pool m = x -> max 2, stride 1, padding same\n"), "\(max)")
  }

  @Test func poolRefusals() {
    let lopsided = Self.around { g, x in
      g.node("MaxPool", [x], name: "mp", attributes: [G.intsAttribute("kernel_shape", [3]), G.intsAttribute("strides", [1]), G.intsAttribute("pads", [2, 0])])
    }
    #expect(lopsided.contains("node 'mp' (MaxPool): it pads time by [2, 0] and leaves the padding out of the max"), "\(lopsided)")
    let ceil = Self.around { g, x in
      g.node("AveragePool", [x], name: "ap", attributes: [G.intsAttribute("kernel_shape", [3]), G.intsAttribute("strides", [2]), G.intAttribute("ceil_mode", 1)])
    }
    #expect(ceil.contains("node 'ap' (AveragePool): ceil_mode 1 with stride 2"), "\(ceil)")
    let indices = Self.around { g, x in
      g.node("MaxPool", [x], name: "mp", outputs: ["mp", "idx"], attributes: [G.intsAttribute("kernel_shape", [2])])
    }
    #expect(indices.contains("node 'mp' (MaxPool): its Indices output is not supported"), "\(indices)")
  }

  // MARK: Normalisation

  @Test func batchNormalizationWritesItsFourVectors() throws {
    var g = G()
    let ct = g.node("Transpose", ["x"], attributes: [G.intsAttribute("perm", [0, 2, 1])])
    let v = { (g: inout G, name: String, values: [Float]) in g.floats(values, dims: [2], name: name) }
    let bn = g.node("BatchNormalization", [ct, v(&g, "bn.weight", [1, 2]), v(&g, "bn.bias", [3, 4]), v(&g, "bn.running_mean", [5, 6]),
                                           v(&g, "bn.running_var", [7, 8])], name: "/bn/BatchNormalization",
                    attributes: [Self.floatAttribute("epsilon", 0.001)])
    let (_, yh) = g.gru(g.node("Transpose", [bn], attributes: [G.intsAttribute("perm", [0, 2, 1])]))
    g.node("Squeeze", [yh, g.ints([0])], name: "h")
    g.output("h")
    let m = try g.imported().get()
    #expect(m.source.contains("batchnorm bn = x -> epsilon 0.001\ngru gru1 = bn ->"), "\(m.source)")
    let vectors = ["gamma", "beta", "mean", "variance"].map { s in m.tensors.first { $0.name == "bn.\(s)" }?.values ?? [] }
    #expect(vectors == [[1, 2], [3, 4], [5, 6], [7, 8]])
  }

  @Test func normalisationRefusals() {
    let training = Self.around { g, x in
      let v = g.floats([1, 1], dims: [2])
      return g.node("BatchNormalization", [x, v, v, v, v], name: "bn", attributes: [G.intAttribute("training_mode", 1)])
    }
    #expect(training.contains("node 'bn' (BatchNormalization): training_mode is 1"), "\(training)")
    let overTime = Self.around { g, x in
      g.node("LayerNormalization", [x, g.floats([1], dims: [1])], name: "ln", attributes: [G.intAttribute("axis", 1)])
    }
    #expect(overTime.contains("node 'ln' (LayerNormalization): it normalises axes 1... of [batch, 2, time]"), "\(overTime)")
    let noEpsilon = Self.around { g, x in
      let v = g.floats([1, 1], dims: [2])
      return g.node("BatchNormalization", [x, v, v, v, v], name: "bn", attributes: [Self.floatAttribute("epsilon", 0)])
    }
    #expect(noEpsilon.contains("node 'bn' (BatchNormalization): attribute 'epsilon' is 0; grucc's batchnorm takes a finite epsilon above 0"),
            "\(noEpsilon)")
  }

  @Test func layerNormalizationWithoutBiasHasNoCenter() throws {
    var g = G()
    let (y, _) = g.gru()
    let seq = g.node("Transpose", [g.node("Squeeze", [y, g.ints([1])])], attributes: [G.intsAttribute("perm", [1, 0, 2])])
    g.node("LayerNormalization", [seq, g.floats([1, 2, 3], dims: [3], name: "ln.weight")], name: "out", attributes: [Self.floatAttribute("epsilon", 1e-5)])
    g.output("out")
    let m = try g.imported().get()
    #expect(m.source.contains("layernorm ln = gru1 -> epsilon 1e-05, center no\noutput out = ln"), "\(m.source)")
    #expect(m.tensors.first { $0.name == "ln.gamma" }?.values == [1, 2, 3] && !m.tensors.contains { $0.name == "ln.beta" })
  }

  // MARK: L2 normalisation

  @Test func lpNormalizationAndTheNormalizePattern() {
    var g = G()
    let (_, yh) = g.gru()
    let h = g.node("Squeeze", [yh, g.ints([0])])
    g.node("LpNormalization", [h], name: "lp", attributes: [G.intAttribute("axis", -1), G.intAttribute("p", 2)])
    let norm = g.node("ReduceL2", [h, g.ints([-1])], attributes: [G.intAttribute("keepdims", 1)])
    let floor = g.node("Max", [norm, g.floats([1e-6], dims: [])])
    let wide = g.node("Expand", [floor, g.node("Shape", [h])])
    g.node("Div", [h, wide], name: "unit")
    g.output("lp")
    g.output("unit")
    let text = g.result()
    #expect(text.contains("output lp = l2norm(state(gru1))\noutput unit = l2norm(state(gru1), 1e-06)"), "\(text)")
  }

  @Test func normRefusals() {
    var g = G()
    let (_, yh) = g.gru()
    let h = g.node("Squeeze", [yh, g.ints([0])])
    g.node("LpNormalization", [h], name: "lp1", attributes: [G.intAttribute("p", 1)])
    g.output("lp1")
    #expect(g.result().contains("node 'lp1' (LpNormalization): p is 1; grucc's l2norm is the 2-norm"), "\(g.result())")

    var g2 = G()
    let (_, yh2) = g2.gru()
    let h2 = g2.node("Squeeze", [yh2, g2.ints([0])])
    g2.node("ReduceL2", [h2, g2.ints([-1])], name: "n", attributes: [G.intAttribute("keepdims", 1)])
    g2.output("n")
    #expect(g2.result().contains("the L2 norm of state(gru1) reaches graph output 'n'; grucc computes it only inside l2norm"), "\(g2.result())")
  }
}
