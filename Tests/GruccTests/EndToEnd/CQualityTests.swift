// The generated C as C: warning-free under strict C99, as C++11 and with gcc; clean under ASan and
// UBSan; free of heap allocation; and a model with a reverse pass refuses streaming at compile time.

import Foundation
import Testing

@testable import GruccCore

@Suite struct CQualityTests {
  /// A model compiled by the Driver into its own temporary directory.
  struct Emitted {
    var directory: URL
    var name: String
    var source: String { directory.appendingPathComponent("\(name).c").path }
    var header: String { directory.appendingPathComponent("\(name).h").path }
    func path(_ file: String) -> String { directory.appendingPathComponent(file).path }
    func remove() { try? FileManager.default.removeItem(at: directory) }
  }

  static func emit(modelPath: String, name: String, flags: [String] = []) throws -> Emitted {
    let emitted = Emitted(directory: try EndToEnd.temporaryDirectory("c-\(name)"), name: name)
    let result = Driver.run([modelPath, "-o", emitted.source] + flags)
    try #require(result.exitCode == 0, "grucc failed on \(modelPath):\n\(result.stderr)")
    return emitted
  }

  static func emitSpec(_ spec: String, flags: [String] = [], label: String = "") throws -> (Emitted, RefModel) {
    let model = try #require(SpecTests.descriptions[spec], "Specs/\(spec).gru has no description in SpecTests")
    return (try emit(modelPath: EndToEnd.specPath(spec), name: model.name, flags: flags), model)
  }

  /// Compiles to an object file and requires success with nothing at all on stderr.
  static func expectClean(_ compiler: CCompiler, _ flags: [String], _ emitted: Emitted, what: String) throws {
    let result = try compiler.compile(flags + ["-c", emitted.source, "-o", emitted.path("\(emitted.name).o")])
    let clean = result.succeeded && result.stderr.isEmpty
    #expect(clean, "\(emitted.name) \(what):\n\(result.summary)")
  }

  // MARK: - Warnings

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: EndToEnd.specNames)
  func specCompilesWithoutWarnings(spec: String) throws {
    let clang = try #require(Clang.compiler)
    for (mode, flags) in Self.modes {
      let (emitted, _) = try Self.emitSpec(spec, flags: flags, label: mode)
      defer { emitted.remove() }
      for level in ["-O0", "-O3"] {
        try Self.expectClean(clang, CCompiler.firmwareC + [level], emitted, what: "\(mode) as C99 with clang \(level)")
      }
      try Self.expectClean(clang, CCompiler.firmwareCXX + ["-O2"], emitted, what: "\(mode) as C++11 with clang")
    }
  }

  @Test(.enabled(if: Clang.gcc != nil, "needs gcc in PATH"), arguments: EndToEnd.specNames)
  func specCompilesWithoutWarningsUnderGCC(spec: String) throws {
    let gcc = try #require(Clang.gcc)
    for (mode, flags) in Self.modes {
      let (emitted, _) = try Self.emitSpec(spec, flags: flags, label: mode)
      defer { emitted.remove() }
      // gcc's flow-based warnings (-Wmaybe-uninitialized, array bounds) only run when optimising.
      try Self.expectClean(gcc, CCompiler.firmwareC + ["-O2"], emitted, what: "\(mode) as C99 with gcc -O2")
      try Self.expectClean(gcc, CCompiler.firmwareCXX + ["-O2"], emitted, what: "\(mode) as C++11 with g++ -O2")
    }
  }

  /// The ways grucc writes C: the default (fast activations), libm's activations, and the weights in a blob.
  static let modes: [(String, [String])] = [
    ("default", []), ("--activations libm", ["--activations", "libm"]), ("--weights external", ["--weights", "external"]),
  ]

  /// The option-coverage models reach emitter paths the Specs do not (unshared with lengths,
  /// time-major stacks, given initial states), so they get the same warning checks.
  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: OptionCoverageTests.modelNames)
  func optionModelCompilesWithoutWarnings(name: String) throws {
    let index = try #require(OptionCoverageTests.modelNames.firstIndex(of: name))
    let model = OptionCoverageTests.models[index]
    let dir = try EndToEnd.temporaryDirectory("gru-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("\(name).gru").path
    try OptionCoverageTests.gruText(model, seed: 7).write(toFile: path, atomically: false, encoding: .utf8)
    let emitted = try Self.emit(modelPath: path, name: name)
    defer { emitted.remove() }
    try Self.expectClean(
      try #require(Clang.compiler), CCompiler.firmwareCXX + ["-O1"], emitted, what: "as C++11 with clang")
    if let gcc = Clang.gcc {
      try Self.expectClean(gcc, CCompiler.firmwareC + ["-O2"], emitted, what: "as C99 with gcc -O2")
    }
  }

  // MARK: - Sanitizers

  /// The whole differential check again, built with ASan and UBSan: any out-of-bounds access,
  /// overflow or misaligned read in the model or its scratch use stops the run.
  @Test(
    .enabled(if: Clang.isAvailable, "needs clang in PATH"),
    .enabled(if: Clang.sanitizersWork, "clang's -fsanitize=address,undefined does not run here"),
    arguments: EndToEnd.specNames + [
      "option:initial_stacked", "option:unshared_lengths", "option:stacked_mixed", "option:heads_all",
    ])
  func runsCleanUnderSanitizers(name: String) throws {
    let model: RefModel
    let path: String
    var cleanup: URL?
    if name.hasPrefix("option:") {
      let option = String(name.dropFirst("option:".count))
      let index = try #require(OptionCoverageTests.modelNames.firstIndex(of: option))
      model = OptionCoverageTests.models[index]
      let dir = try EndToEnd.temporaryDirectory("asan-\(option)")
      cleanup = dir
      path = dir.appendingPathComponent("\(option).gru").path
      try OptionCoverageTests.gruText(model, seed: 11).write(toFile: path, atomically: false, encoding: .utf8)
    } else {
      model = try #require(SpecTests.descriptions[name])
      path = EndToEnd.specPath(name)
    }
    defer { if let cleanup { try? FileManager.default.removeItem(at: cleanup) } }
    let check = DifferentialCheck(
      modelPath: path, model: model, cases: EndToEnd.cases(for: model, seed: 77, steps: [1, 6]),
      cFlags: ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
      environment: Clang.sanitizerEnvironment)
    _ = try check.run()
  }

  // MARK: - No allocation

  /// Symbols of the C library's allocators (and C++'s operator new, should the code ever be built
  /// as C++ with containers): none may appear among the object's undefined symbols.
  static let allocationFunctions: Set<String> = [
    "malloc", "calloc", "realloc", "reallocarray", "free", "aligned_alloc", "posix_memalign", "memalign", "valloc",
    "pvalloc", "alloca", "strdup", "strndup", "mmap", "mmap64", "munmap", "sbrk", "brk", "__libc_malloc",
    "__libc_calloc", "__libc_realloc", "__libc_free", "_Znwm", "_Znam", "_Znwj", "_Znaj", "_ZdlPv", "_ZdaPv",
  ]

  @Test(
    .enabled(if: Clang.isAvailable && Clang.nmPath != nil, "needs clang and nm in PATH"), arguments: EndToEnd.specNames)
  func objectAllocatesNothing(spec: String) throws {
    let (emitted, _) = try Self.emitSpec(spec)
    defer { emitted.remove() }
    let clang = try #require(Clang.compiler)
    for level in ["-O0", "-O2"] {
      let object = emitted.path("\(emitted.name)\(level).o")
      let built = try clang.compile(CCompiler.strictC + [level, "-c", emitted.source, "-o", object])
      let compiled = built.succeeded
      try #require(compiled, "\(built.summary)")
      let nm = try ProcessRunner.run(try #require(Clang.nmPath), ["-u", object], timeout: 30)
      let listed = nm.succeeded
      try #require(listed, "\(nm.summary)")
      let undefined = nm.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
        .map { $0.split(separator: "@").first.map(String.init) ?? $0 }
      #expect(!undefined.isEmpty, "nm -u listed nothing for \(spec) \(level); the check would prove nothing")
      let allocating = undefined.filter { Self.allocationFunctions.contains($0) }
      #expect(allocating.isEmpty, "\(spec) \(level) references \(allocating) (all undefined symbols: \(undefined))")
    }
  }

  // MARK: - Streaming a reverse pass

  /// Models with a reverse pass: the Specs that have one, and one from the option configs so the
  /// test never runs empty.
  static let reverseModels: [String] =
    EndToEnd.specNames.filter { SpecTests.descriptions[$0].map { !$0.streams } ?? false } + ["option:reverse_lengths"]

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: reverseModels)
  func streamingAReversePassDoesNotCompile(name: String) throws {
    let emitted: Emitted
    let model: RefModel
    if name.hasPrefix("option:") {
      let option = String(name.dropFirst("option:".count))
      model = OptionCoverageTests.models[try #require(OptionCoverageTests.modelNames.firstIndex(of: option))]
      let dir = try EndToEnd.temporaryDirectory("rev-\(option)")
      defer { try? FileManager.default.removeItem(at: dir) }
      let path = dir.appendingPathComponent("\(option).gru").path
      try OptionCoverageTests.gruText(model, seed: 3).write(toFile: path, atomically: false, encoding: .utf8)
      emitted = try Self.emit(modelPath: path, name: option)
    } else {
      (emitted, model) = try Self.emitSpec(name)
    }
    defer { emitted.remove() }
    #expect(!model.streams)
    let clang = try #require(Clang.compiler)
    let real = model.precision == .f32 ? "float" : "double"
    let marker = "\(model.name)_cannot_stream_a_reverse_pass"
    let calls = [
      "\(model.name)_step(0, x, out);", "\(model.name)_reset(0);", "\(model.name)_set_state(0, x);",
      "\(model.name)_get_state(0, out);",
    ]
    for call in calls {
      let program = """
        #include "\(model.name).h"

        int main(void) {
            \(real) x[\(model.name.uppercased())_INPUT_SIZE] = {0};
            \(real) out[4096];
            \(call)
            (void)x;
            (void)out;
            return 0;
        }

        """
      let file = emitted.path("stream_user.c")
      try program.write(toFile: file, atomically: false, encoding: .utf8)
      let result = try clang.compile(CCompiler.strictC + ["-c", file, "-o", emitted.path("stream_user.o")])
      let refused = !result.succeeded
      let named = result.stderr.contains(marker)
      #expect(refused, "\(name): '\(call)' compiled, but the model has a reverse pass")
      #expect(named, "\(name): the error for '\(call)' does not name '\(marker)':\n\(result.stderr)")
    }
  }
}
