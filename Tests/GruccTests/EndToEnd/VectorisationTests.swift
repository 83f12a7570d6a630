// The generated C's hot loops must be vectorised by gcc as well as clang, at -O2 as well as -O3:
// each compiler's own vectorisation report (gcc -fopt-info-vec-optimized, clang
// -Rpass=loop-vectorize|slp-vectorizer) must name every gate loop of the step functions and the
// multiply-add loops of the packed products. The loops are found in the emitted text by their
// shape and checked by source line, so the test does not depend on the rest of the report.

import Foundation
import Testing

@testable import GruccCore

@Suite struct VectorisationTests {
  /// PyTorch's GRU and TF1's (reset before: a gate loop between two products; an input size that
  /// leaves a remainder after the product's four-column passes), with the fast activations: the
  /// only mode whose gate loops can vectorise (libm's expf is a call). f32 only: clang vectorises
  /// f64's 8-lane register block after unrolling it, through the SLP vectoriser without a remark,
  /// so its report cannot show it; and gcc does not vectorise f64's clamps on plain x86-64 (SSE2
  /// has no 64-bit lane compare; from SSE4.2 on it does).
  static let models: [(name: String, text: String)] = [
    ("pytorch", """
      model m
      precision f32
      input x[64]
      gru h = x -> hidden 64, reset after, update keeps-state, bias separate
      output y = h
      init seed 1
      """),
    ("tf1", """
      model m
      precision f32
      input x[37]
      gru h = x -> hidden 48, reset before, update keeps-state, bias single
      output y = h
      init seed 1
      """),
  ]

  /// The flags each model is compiled with: -O3 and -O2 with AVX2 (x86-64-v3, where the
  /// benchmark's machines are), and -O2 for the baseline of the target (SSE2 on x86-64).
  static let flagSets: [[String]] = {
    #if arch(x86_64)
      return [["-O3", "-mavx2", "-mfma"], ["-O2", "-mavx2", "-mfma"], ["-O2"]]
    #else
      return [["-O3"], ["-O2"]]
    #endif
  }()

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH; skipped"))
  func clangVectorisesTheHotLoops() throws {
    try check(try #require(Clang.compiler), report: ["-Rpass=loop-vectorize|slp-vectorizer"], label: "clang")
  }

  @Test(.enabled(if: Clang.gcc != nil, "needs gcc in PATH; skipped"))
  func gccVectorisesTheHotLoops() throws {
    try check(try #require(Clang.gcc), report: ["-fopt-info-vec-optimized"], label: "gcc")
  }

  func check(_ compiler: CCompiler, report: [String], label: String) throws {
    for model in Self.models {
      let dir = try EndToEnd.temporaryDirectory("vec-\(model.name)")
      defer { try? FileManager.default.removeItem(at: dir) }
      let gru = dir.appendingPathComponent("m.gru").path
      let source = dir.appendingPathComponent("m.c").path
      try model.text.write(toFile: gru, atomically: false, encoding: .utf8)
      let emitted = Driver.run([gru, "--activations", "fast", "-o", source])
      try #require(emitted.exitCode == 0, "grucc failed on \(model.name):\n\(emitted.stderr)")
      let loops = try HotLoops(try String(contentsOfFile: source, encoding: .utf8), model: "m")
      for flags in Self.flagSets {
        let result = try compiler.compile(
          ["-std=c99"] + flags + report + ["-c", source, "-o", dir.appendingPathComponent("m.o").path])
        try #require(result.succeeded, "\(label) \(flags) failed on \(model.name):\n\(result.summary)")
        let remarks = VectorisationRemarks(result.stderr, file: "m.c")
        var missing: [String] = []
        for loop in loops.all where !remarks.vectorised(loop) { missing.append("\(loop.what) (line \(loop.header))") }
        #expect(
          missing.isEmpty,
          "\(label) \(flags.joined(separator: " ")) does not vectorise, in \(model.name): \(missing.joined(separator: "; "))\nits report:\n\(result.stderr.prefix(6000))"
        )
        print("vectorised \(label) \(flags.joined(separator: " ")) \(model.name): \(loops.all.count - missing.count) of \(loops.all.count) hot loops")
      }
    }
  }

  /// The shape finder must find what it claims on a text whose loops it knows.
  @Test func hotLoopsAreFoundByShape() throws {
    let c = try CompileInProcess.c(Self.models[0].text, flags: ["--activations", "fast"])
    let loops = try HotLoops(c, model: "m")
    #expect(loops.gates.count == 1)
    #expect(loops.products.count == 2, "the block loop and the single-row loop of the one panel width")
    let lines = c.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for loop in loops.all {
      #expect(lines[loop.header - 1].contains("for (int ") || lines[loop.header - 1].contains("for (size_t "))
    }
  }
}

/// One loop of interest: where its header is and where it ends, 1-based lines of the C file, and
/// the header of the loop around it when a compiler that unrolls this one may vectorise that one
/// instead (gcc's SLP inside a loop: the unrolled lanes become the vector's lanes).
struct HotLoop {
  var what: String
  var header: Int
  var end: Int
  var enclosing: Int? = nil
}

/// The gate loops (the elementwise loops of every step function) and the multiply-add loops of the
/// packed products (the register block's and the single row's), found by their text.
struct HotLoops {
  struct NotFound: Error, CustomStringConvertible { var description: String }

  var gates: [HotLoop] = []
  var products: [HotLoop] = []
  var all: [HotLoop] { gates + products }

  init(_ c: String, model: String) throws {
    let lines = c.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    // Functions start at column 0 with `name(...) {` and end at the first `}` at column 0.
    func functions(where matches: (String) -> Bool) -> [Range<Int>] {
      var found: [Range<Int>] = []
      for (i, line) in lines.enumerated() where matches(line) && line.hasSuffix(") {") {
        let end = lines[i...].firstIndex(of: "}") ?? lines.count - 1
        found.append(i..<end + 1)
      }
      return found
    }
    // The closing line of the loop whose header is at index i: the brace that balances it.
    func loopEnd(_ i: Int) -> Int {
      var depth = 0
      for j in i..<lines.count {
        depth += lines[j].filter { $0 == "{" }.count - lines[j].filter { $0 == "}" }.count
        if depth <= 0 { return j }
      }
      return i
    }
    let steps = functions { $0.hasPrefix("static void \(model)_") && $0.contains("_step(") }
    guard !steps.isEmpty else { throw NotFound(description: "no step function '\(model)_*_step' in the C") }
    for range in steps {
      for i in range where lines[i].trimmingCharacters(in: .whitespaces).hasPrefix("for (int i = 0; i < ") {
        gates.append(HotLoop(what: "gate loop", header: i + 1, end: loopEnd(i) + 1))
      }
    }
    guard !gates.isEmpty else { throw NotFound(description: "no elementwise loop in the step functions") }
    let products = functions { $0.contains("void \(model)_linear_p") }
    guard !products.isEmpty else { throw NotFound(description: "no packed product '\(model)_linear_pN' in the C") }
    for range in products {
      // The loop right after the row values are read: the register block's (x0[j]) and the single
      // row's (xr[j], four columns per pass).
      for (anchor, what) in [("v0 = x0[j]", "product register block"), ("v0 = xr[j]", "product single row")] {
        guard let i = range.first(where: { lines[$0].contains(anchor) }), lines[i + 1].contains("for (size_t l = 0;") else {
          throw NotFound(description: "no '\(anchor)' followed by the lane loop in \(lines[range.lowerBound])")
        }
        let outer = range.last { $0 < i && lines[$0].contains("for (") }
        self.products.append(HotLoop(what: what, header: i + 2, end: loopEnd(i + 1) + 1, enclosing: outer.map { $0 + 1 }))
      }
    }
  }
}

/// The vectorisation remarks of one compile, by line of `file`.
struct VectorisationRemarks {
  /// Lines where a loop was vectorised, and lines where straight-line code was (SLP).
  var loops: Set<Int> = []
  var blocks: Set<Int> = []

  /// gcc: `m.c:12:27: optimized: loop vectorized using 32 byte vectors` (or `basic block part
  /// vectorized`); clang: `m.c:12:9: remark: vectorized loop (...)` (or `SLP vectorized ...`).
  init(_ report: String, file: String) {
    for line in report.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
      guard parts.count == 5, parts[0].hasSuffix(file), let number = Int(parts[1]) else { continue }
      let message = parts[4]
      if message.contains("loop vectorized") || message.contains("vectorized loop") {
        loops.insert(number)
      } else if message.contains("basic block part vectorized") || message.contains("SLP vectorized")
        || message.contains("Vectorized horizontal reduction")
      {
        blocks.insert(number)
      }
    }
  }

  /// Vectorised as a loop (reported at its header, or at the enclosing loop's once this one is
  /// unrolled), or its body as straight-line vector code after the compiler unrolled it.
  func vectorised(_ loop: HotLoop) -> Bool {
    loops.contains(loop.header) || loop.enclosing.map(loops.contains) == true
      || (loop.header < loop.end && !blocks.isDisjoint(with: (loop.header + 1)...loop.end))
  }
}
