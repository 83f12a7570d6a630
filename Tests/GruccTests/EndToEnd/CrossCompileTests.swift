// The generated C on the targets firmware engineers build for: every Spec cross-compiled for a
// Cortex-M4 (arm-none-eabi-gcc, hard float, -Os) warning-free, with its stack within the header's
// bound, and for aarch64 (aarch64-linux-gnu-gcc), whose build runs under qemu-user on the test
// inputs and must print what the x86 build prints. Skipped, saying so, where the tools are
// missing; .ci/run installs them from Debian (gcc-arm-none-eabi, libnewlib-arm-none-eabi,
// gcc-aarch64-linux-gnu, qemu-user).

import Foundation
import Testing

@testable import GruccCore

enum CrossTools {
  static let armGCC = ProcessRunner.which("arm-none-eabi-gcc")
  static let armSize = ProcessRunner.which("arm-none-eabi-size")
  static let aarch64GCC = ProcessRunner.which("aarch64-linux-gnu-gcc")
  static let qemu = ProcessRunner.which("qemu-aarch64")

  static var cortexM4: Bool { armGCC != nil && armSize != nil }
  static var aarch64: Bool { aarch64GCC != nil && qemu != nil && Clang.isAvailable }

  static let cortexM4Flags = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Os"]

  /// Sections of an object file as `arm-none-eabi-size -A` prints them.
  static func sections(_ object: String) throws -> [String: Int] {
    let out = try ProcessRunner.run(armSize!, ["-A", object])
    var sizes: [String: Int] = [:]
    for line in out.stdout.split(separator: "\n") {
      let f = line.split(separator: " ", omittingEmptySubsequences: true)
      if f.count >= 2, f[0].hasPrefix("."), let n = Int(f[1]) {
        let name = String(f[0])
        // -ffunction-sections names each function's section after it: add them up by kind.
        let kind = [".text", ".rodata", ".data", ".bss"].first { name == $0 || name.hasPrefix($0 + ".") } ?? name
        sizes[kind, default: 0] += n
      }
    }
    return sizes
  }
}

@Suite struct CrossCompileTests {
  @Test(.enabled(if: CrossTools.cortexM4, "needs arm-none-eabi-gcc and arm-none-eabi-size (apt-get install gcc-arm-none-eabi)"),
        arguments: EndToEnd.specNames)
  func specBuildsForCortexM4WithinItsStackBound(spec: String) throws {
    let (emitted, _) = try CQualityTests.emitSpec(spec)
    defer { emitted.remove() }
    let object = emitted.path("m4.o")
    let built = try ProcessRunner.run(
      CrossTools.armGCC!,
      CrossTools.cortexM4Flags + CCompiler.firmwareC + ["-ffunction-sections", "-fdata-sections", "-fstack-usage", "-c", emitted.source, "-o", object])
    #expect(built.succeeded && built.stderr.isEmpty, "\(spec) for Cortex-M4:\n\(built.summary)")
    guard built.succeeded else { return }
    let header = try String(contentsOfFile: emitted.header, encoding: .utf8)
    let declared = StackUsageTests.declared(header).narrow
    let calls = StackUsageTests.callGraph(try String(contentsOfFile: emitted.source, encoding: .utf8))
    let su = try String(contentsOfFile: emitted.path("m4.su"), encoding: .utf8)
    let (stack, chain) = StackUsageTests.deepestChain(calls: calls, frames: StackUsageTests.frames(su))
    #expect(stack <= declared, "\(spec) on Cortex-M4: \(stack) bytes of stack (\(chain.joined(separator: " → "))) > \(declared)")
    let s = try CrossTools.sections(object)
    print("cortex-m4 \(spec): text \(s[".text"] ?? 0), rodata \(s[".rodata"] ?? 0), data \(s[".data"] ?? 0), bss \(s[".bss"] ?? 0), stack \(stack) of \(declared)")
  }

  /// The issue's CRNN (Keras's Conv1D 16×20 causal → ZeroPadding1D(2, 0) → AveragePooling1D(3, 1)
  /// → GRU 32 → Dense(2) → UnitNormalization; its BatchNormalization comes with the batchnorm
  /// statement) with random weights: warning-free for Cortex-M4, within its stack bound, streaming.
  static let crnn = """
    model crnn
    input x[2]
    conv1d c = x -> filters 16, kernel 20, padding causal
    pad z = c -> before 2
    pool p = z -> average 3, stride 1
    gru h = p -> hidden 32, reset after, update keeps-state, bias separate
    output y = l2norm(dense(state(h), 2))
    init seed 15

    """

  @Test(.enabled(if: CrossTools.cortexM4, "needs arm-none-eabi-gcc and arm-none-eabi-size (apt-get install gcc-arm-none-eabi)"))
  func crnnBuildsForCortexM4WithinItsStackBound() throws {
    let dir = try EndToEnd.temporaryDirectory("crnn-m4")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("crnn.gru").path
    try Self.crnn.write(toFile: path, atomically: false, encoding: .utf8)
    let emitted = try CQualityTests.emit(modelPath: path, name: "crnn")
    defer { emitted.remove() }
    let header = try String(contentsOfFile: emitted.header, encoding: .utf8)
    #expect(header.contains("int crnn_step("), "the CRNN does not stream")
    let object = emitted.path("m4.o")
    let built = try ProcessRunner.run(
      CrossTools.armGCC!,
      CrossTools.cortexM4Flags + CCompiler.firmwareC + ["-ffunction-sections", "-fdata-sections", "-fstack-usage", "-c", emitted.source, "-o", object])
    #expect(built.succeeded && built.stderr.isEmpty, "crnn for Cortex-M4:\n\(built.summary)")
    guard built.succeeded else { return }
    let declared = StackUsageTests.declared(header).narrow
    let calls = StackUsageTests.callGraph(try String(contentsOfFile: emitted.source, encoding: .utf8))
    let su = try String(contentsOfFile: emitted.path("m4.su"), encoding: .utf8)
    let (stack, chain) = StackUsageTests.deepestChain(calls: calls, frames: StackUsageTests.frames(su))
    #expect(stack <= declared, "crnn on Cortex-M4: \(stack) bytes of stack (\(chain.joined(separator: " → "))) > \(declared)")
    let s = try CrossTools.sections(object)
    print("cortex-m4 crnn: text \(s[".text"] ?? 0), rodata \(s[".rodata"] ?? 0), data \(s[".data"] ?? 0), bss \(s[".bss"] ?? 0), stack \(stack) of \(declared)")
  }

  @Test(.enabled(if: CrossTools.aarch64, "needs aarch64-linux-gnu-gcc and qemu-aarch64 (apt-get install gcc-aarch64-linux-gnu qemu-user)"),
        arguments: EndToEnd.specNames)
  func specRunsOnAarch64AsOnX86(spec: String) throws {
    let model = try #require(SpecTests.descriptions[spec])
    let (emitted, _) = try CQualityTests.emitSpec(spec)
    defer { emitted.remove() }
    let harness = CHarness(model)
    let harnessPath = emitted.path("harness.c")
    let input = emitted.path("input.bin")
    let cases = EndToEnd.cases(for: model, seed: 77, steps: [1, 6, 40])
    try harness.source(header: "\(model.name).h").write(toFile: harnessPath, atomically: false, encoding: .utf8)
    try harness.inputFile(cases).write(to: URL(fileURLWithPath: input))

    let clang = try #require(Clang.compiler)
    let x86 = emitted.path("harness-x86")
    let arm = emitted.path("harness-aarch64")
    let builtX86 = try clang.compile(CCompiler.strictC + ["-O2", emitted.source, harnessPath, "-o", x86, "-lm"])
    try #require(builtX86.succeeded, "\(builtX86.summary)")
    let builtArm = try ProcessRunner.run(
      CrossTools.aarch64GCC!, CCompiler.strictC + ["-O2", "-static", emitted.source, harnessPath, "-o", arm, "-lm"])
    try #require(builtArm.succeeded && builtArm.stderr.isEmpty, "\(builtArm.summary)")
    let ranX86 = try ProcessRunner.run(x86, [input])
    let ranArm = try ProcessRunner.run(CrossTools.qemu!, [arm, input], timeout: 300)
    try #require(ranX86.succeeded, "\(ranX86.summary)")
    try #require(ranArm.succeeded, "\(ranArm.summary)")
    let onX86 = try harness.parse(ranX86.stdout, cases: cases)
    let onArm = try harness.parse(ranArm.stdout, cases: cases)
    var table = ErrorTable()
    for (k, (a, b)) in zip(onX86, onArm).enumerated() {
      for o in model.outputs {
        table.compare("aarch64-x86 run_batch", b.batch[o.name] ?? [], a.batch[o.name] ?? [], at: "case \(k), '\(o.name)'")
        table.compare("aarch64-x86 run", b.run[o.name] ?? [], a.run[o.name] ?? [], at: "case \(k), '\(o.name)'")
        if model.streams {
          table.compare("aarch64-x86 stream", b.stream[o.name] ?? [], a.stream[o.name] ?? [], at: "case \(k), '\(o.name)'")
        }
      }
    }
    print("aarch64 \(spec): \(table.summary)")
    // The same C on both: only the C libraries' exp and tanh may round differently.
    table.expectWithin(EndToEnd.tolerance(model.precision) / 10, model: spec)
  }
}
