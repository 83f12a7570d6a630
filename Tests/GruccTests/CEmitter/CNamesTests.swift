// The C name table: names that sanitise or case-fold to the same C identifier, names that are
// keywords, API parameters, functions the code calls or macros it defines, all get distinct
// identifiers, handed out in model order, the same every time.

import Foundation
import Testing

@testable import GruccCore

@Suite struct CNamesTests {
  static func table(
    parameters: [(String, Bool)], weights: [String] = [], scans: [String] = [], outputs: [String] = []
  ) -> CNames {
    CNames(
      model: "m", headerGuard: "M_H", parameters: parameters.map { (name: $0.0, isSequence: $0.1) }, weights: weights,
      scans: scans, sizeMacros: outputs.map { (key: "output_\($0)_size", kind: "output", name: $0, suffix: "size") })
  }

  @Test func clashingParametersGetDistinctNamesInModelOrder() {
    let names = Self.table(parameters: [
      ("h.h0", false), ("state", false), ("state_", false), ("y", true), ("y_b", false), ("h_h0", false),
      ("x", false), ("int", true), ("m_run", false), ("M_OK", false), ("M_H", false), ("m_linear_p8", false),
    ])
    let expected = [
      "h.h0": "h_h0", "state": "state_", "state_": "state__", "y": "y", "y_b": "y_b_", "h_h0": "h_h0_", "x": "x_",
      "int": "int_", "m_run": "m_run_", "M_OK": "M_OK_", "M_H": "M_H_", "m_linear_p8": "m_linear_p8_",
    ]
    for (dsl, c) in expected { #expect(names.parameter(dsl) == c, "\(dsl)") }
  }

  /// A sequence parameter brings its strides `<name>_b` and `<name>_t` into the sequence function.
  @Test func sequenceStridesDoNotClash() {
    let names = Self.table(parameters: [("a_b", false), ("a", true), ("c", true), ("c_t", true)])
    #expect(names.parameter("a") == "a_")
    #expect(names.parameter("c") == "c")
    #expect(names.parameter("c_t") == "c_t_")
  }

  /// An int8 weight's scales are `<array>_scale`: a weight named like another's scales, before or
  /// after it, moves aside.
  @Test func weightScalesNeverMeetAnotherWeight() {
    let after = Self.table(parameters: [], weights: ["h.w", "h.w_scale"])
    #expect(after.weight("h.w") == "m_h_w")
    #expect(after.weight("h.w_scale") == "m_h_w_scale_")
    let before = Self.table(parameters: [], weights: ["h.w_scale", "h.w"])
    #expect(before.weight("h.w_scale") == "m_h_w_scale")
    #expect(before.weight("h.w") == "m_h_w_")
    let all = [after.weight("h.w"), after.weight("h.w_scale"), before.weight("h.w"), before.weight("h.w_scale")]
    for pair in [(all[0], all[1]), (all[2], all[3])] {
      #expect(CInt8.scaleName(pair.0) != pair.1 && CInt8.scaleName(pair.1) != pair.0)
    }
  }

  @Test func weightsStepFunctionsAndMacrosThatSanitiseAlikeAreMovedAside() {
    let names = Self.table(
      parameters: [], weights: ["h.fw.w_r", "h_fw.w_r", "h.fw.w.r"], scans: ["h.fw", "h_fw"], outputs: ["y", "Y", "y_"])
    #expect(names.weight("h.fw.w_r") == "m_h_fw_w_r")
    #expect(names.weight("h_fw.w_r") == "m_h_fw_w_r_")
    #expect(names.weight("h.fw.w.r") == "m_h_fw_w_r__")
    #expect(names.stepFunction("h.fw") == "m_h_fw_step")
    #expect(names.stepFunction("h_fw") == "m_h_fw__step")
    #expect(names.sizeMacro("output_y_size") == "M_OUTPUT_Y_SIZE")
    #expect(names.sizeMacro("output_Y_size") == "M_OUTPUT_Y__SIZE")
    #expect(names.sizeMacro("output_y__size") == "M_OUTPUT_Y___SIZE")
  }

  /// The fixed functions and the fast math's helpers are never given to a weight or a step function.
  @Test func fixedFunctionsAreReserved() {
    #expect(CNames.fixedGlobals.contains("f2u") && CNames.fixedGlobals.contains("expm1_poly_f"))
    #expect(CNames.fixedMacros.contains("LOG2E_F"))
    let names = Self.table(parameters: [], scans: ["run_batch", "linear"])
    #expect(names.stepFunction("run_batch") == "m_run_batch_step")
  }

  @Test func localsNeverShadowTheModelsFileScopeNames() {
    let names = Self.table(parameters: [("out", true)])
    var locals = LocalNames(reserved: [names.parameter("out")], names: names)
    #expect(locals.fresh("m_linear") == "v_m_linear")
    #expect(locals.fresh("M_OK") == "v_M_OK")
    #expect(locals.fresh("out") == "out_2")
    #expect(locals.fresh("state") == "state_2")
  }

  @Test func theSameNamesComeOutEveryTime() {
    let a = Self.table(parameters: [("b", true), ("b_", true)], weights: ["a.b", "a_b"], scans: ["a.b", "a_b"])
    let b = Self.table(parameters: [("b", true), ("b_", true)], weights: ["a.b", "a_b"], scans: ["a.b", "a_b"])
    #expect(a.parameter("b_") == b.parameter("b_") && a.weight("a_b") == b.weight("a_b"))
    #expect(a.stepFunction("a_b") == b.stepFunction("a_b"))
  }

  /// Outputs whose macros differ only in case, an output named like the model's own functions and
  /// macros: the header and source compile warning-free as C and C++, and each macro has its value.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"))
  func clashingModelCompilesAndItsMacrosKeepTheirValues() throws {
    let dir = try EndToEnd.temporaryDirectory("c-name-clashes")
    defer { try? FileManager.default.removeItem(at: dir) }
    let model = """
      model clash
      input x[3]
      gru h = x -> hidden 4, reset after, update keeps-state, bias separate, direction bidirectional, initial given
      gru h_fw = h -> hidden 3, reset before, update keeps-state, bias single
      output y = dense(h_fw, 2)
      output Y = state(h)
      output CLASH_OK = h_fw
      output clash_sequence = mean(h)
      output h_h0 = last(h)
      init seed 1

      """
    let modelPath = dir.appendingPathComponent("clash.gru").path
    try model.write(toFile: modelPath, atomically: false, encoding: .utf8)
    let source = dir.appendingPathComponent("clash.c").path
    let result = Driver.run([modelPath, "-o", source])
    try #require(result.exitCode == 0, "\(result.stderr)")
    let main = dir.appendingPathComponent("main.c").path
    try """
      #include "clash.h"
      typedef char y_size[CLASH_OUTPUT_Y_SIZE == 2 ? 1 : -1];
      typedef char big_y_size[CLASH_OUTPUT_Y__SIZE == 8 ? 1 : -1];
      typedef char ok_size[CLASH_OUTPUT_CLASH_OK_SIZE == 3 ? 1 : -1];
      typedef char fw_size[CLASH_LAYER_H_FW_HIDDEN_SIZE == 4 ? 1 : -1];
      typedef char h_fw_size[CLASH_LAYER_H_FW__HIDDEN_SIZE == 3 ? 1 : -1];
      int main(void) { return CLASH_OK; }

      """.write(toFile: main, atomically: false, encoding: .utf8)
    let clang = try #require(Clang.compiler)
    for flags in [CCompiler.strictC, CCompiler.strictCXX] {
      let built = try clang.compile(flags + ["-I", dir.path, source, main, "-lm", "-o", dir.appendingPathComponent("m").path])
      #expect(built.succeeded && built.stderr.isEmpty, "\(built.summary)")
    }
    let header = try String(contentsOfFile: dir.appendingPathComponent("clash.h").path, encoding: .utf8)
    #expect(header.contains("float *CLASH_OK_,"), "the output named like a macro is moved aside:\n\(header)")
    #expect(header.contains("float *clash_sequence_,"))
    #expect(header.contains("const float *h_h0, float *y, float *Y, float *CLASH_OK_, float *clash_sequence_, float *h_h0_,"))
  }
}
