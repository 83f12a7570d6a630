// The header's <P>_STACK_BYTES against what compilers measure: every Spec and a few option models,
// compiled by clang and gcc for this 64-bit machine (AVX-512) from -O0 to -O3 with -fstack-usage,
// with the fast activations (the default) and with libm's, against the 64-bit bound. (CrossCompileTests checks the
// 32-bit bound on a Cortex-M4 build.) The stack a function needs is its own frame plus the deepest chain of generated
// functions it calls (the generated code never recurses), read from the calls in the source.

import Foundation
import Testing

@testable import GruccCore

@Suite struct StackUsageTests {
  /// The optimisation levels tried: unoptimised code keeps every local on the stack, optimised
  /// code inlines the products and realigns for vectors. The fast activations add their helpers
  /// to the chain, which is longest unoptimised.
  static let levels = ["fast": ["-O0", "-O1", "-Os", "-O3"], "libm": ["-O0", "-O2"]]

  /// Function definitions of a generated .c file and the generated functions each one calls.
  static func callGraph(_ source: String) -> [String: Set<String>] {
    var bodies: [(name: String, body: Substring)] = []
    var current: (String, String.Index)?
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
    var index = source.startIndex
    for line in lines {
      defer { index = source.index(index, offsetBy: line.count + 1, limitedBy: source.endIndex) ?? source.endIndex }
      // A definition starts at column 0 with a return type and ends its first line with `{`.
      guard line.hasSuffix("{"), let open = line.firstIndex(of: "("), !line.hasPrefix(" "), !line.hasPrefix("typedef") else { continue }
      let head = line[..<open]
      guard let name = head.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).last else { continue }
      if let (n, start) = current { bodies.append((n, source[start..<index])) }
      current = (String(name), index)
    }
    if let (n, start) = current { bodies.append((n, source[start...])) }
    let names = Set(bodies.map(\.name))
    var calls: [String: Set<String>] = [:]
    for (name, body) in bodies {
      var called = Set<String>()
      for other in names where other != name && body.contains(other + "(") { called.insert(other) }
      calls[name] = called
    }
    return calls
  }

  /// Frames by function name (a clone such as `f.constprop.0` counts for `f`), from a .su file.
  static func frames(_ su: String) -> [String: Int] {
    var frames: [String: Int] = [:]
    for line in su.split(separator: "\n") {
      let fields = line.split(separator: "\t")
      guard fields.count >= 2, let size = Int(fields[1]) else { continue }
      let name = String(fields[0].split(separator: ":").last?.split(separator: ".").first ?? "")
      frames[name] = max(frames[name] ?? 0, size)
    }
    return frames
  }

  /// The header's two bounds: for 64-bit targets, then for 32-bit ones.
  static func declared(_ header: String) -> (wide: Int, narrow: Int) {
    let values = header.split(separator: "\n").filter { $0.contains("_STACK_BYTES ") }
      .compactMap { $0.split(separator: " ").dropFirst(2).first.flatMap { Int($0) } }
    return (values.first ?? 0, values.dropFirst().first ?? 0)
  }

  /// The deepest chain from any function: its frame plus the deepest of its callees'.
  static func deepestChain(calls: [String: Set<String>], frames: [String: Int]) -> (bytes: Int, chain: [String]) {
    var memo: [String: (Int, [String])] = [:]
    func cost(_ f: String) -> (Int, [String]) {
      if let m = memo[f] { return m }
      let deepest = (calls[f] ?? []).sorted().map(cost).max { $0.0 < $1.0 } ?? (0, [])
      let result = ((frames[f] ?? 0) + deepest.0, [f] + deepest.1)
      memo[f] = result
      return result
    }
    return calls.keys.sorted().map(cost).max { $0.0 < $1.0 }.map { ($0.0, $0.1) } ?? (0, [])
  }

  static let optionModels: [(name: String, text: String)] = [
    ("stack_heads", """
      model stack_heads
      input x[5], lengths len
      gru h = x -> hidden 24, reset before, update keeps-state, bias single, initial given
      gru g = h -> hidden 70, reset after, update keeps-state, bias separate
      output y = softmax(dense(g, 3))
      let hidden = relu(dense(mean(g), 40))
      output p = sigmoid(dense(hidden, 2))
      output s = state(h)
      init seed 1

      """),
    ("stack_bidirectional", """
      model stack_bidirectional
      input x[9], steps 6
      gru h = x -> hidden 33, reset after, update takes-candidate, bias separate, direction bidirectional, clip 3
      output y = dense(h, 4, unshared)
      output m = max(h)
      init seed 2

      """),
    // Layers inside the sequence function (after a gru layer) and in the stream: their sums side
    // by side in blocks of 16 on the stack.
    ("stack_between", """
      model stack_between
      input x[4]
      conv1d c0 = x -> filters 20, kernel 5, padding causal
      gru h = c0 -> hidden 24, reset after, update keeps-state, bias separate
      conv1d c = h -> filters 36, kernel 3, padding causal, groups 2, activation relu
      pad z = c -> before 1
      pool p = z -> max 2, stride 1
      gru g = p -> hidden 16, reset after, update keeps-state, bias separate
      output y = dense(g, 3)
      output s = state(g)
      init seed 3

      """),
  ]

  static let cases: [String] = EndToEnd.specNames + optionModels.map(\.name)

  @Test(.enabled(if: Clang.isAvailable, "needs clang in PATH"), arguments: cases)
  func stackStaysWithinTheDeclaredBound(name: String) throws {
    let dir = try EndToEnd.temporaryDirectory("stack-\(name)")
    defer { try? FileManager.default.removeItem(at: dir) }
    var modelPath = EndToEnd.specPath(name)
    if let model = Self.optionModels.first(where: { $0.name == name }) {
      modelPath = dir.appendingPathComponent("\(name).gru").path
      try model.text.write(toFile: modelPath, atomically: false, encoding: .utf8)
    }
    var compilers: [(String, CCompiler)] = []
    if let clang = Clang.compiler { compilers.append(("clang", clang)) }
    if let gcc = Clang.gcc { compilers.append(("gcc", gcc)) }
    var worst = (bytes: 0, what: "")
    var declared = 0
    for mode in ["fast", "libm"] {
      let source = dir.appendingPathComponent("m_\(mode).c").path
      let result = Driver.run([modelPath, "-o", source] + ["--activations", mode])
      try #require(result.exitCode == 0, "\(result.stderr)")
      let header = try String(contentsOfFile: dir.appendingPathComponent("m_\(mode).h").path, encoding: .utf8)
      declared = Self.declared(header).wide
      try #require(declared > 0, "no STACK_BYTES in the header")
      let calls = Self.callGraph(try String(contentsOfFile: source, encoding: .utf8))
      for (label, compiler) in compilers {
        for level in Self.levels[mode]! {
          let object = dir.appendingPathComponent("m_\(mode).o").path
          let su = dir.appendingPathComponent("m_\(mode).su")
          try? FileManager.default.removeItem(at: su)
          let built = try compiler.compile(["-std=c99", level, "-march=native", "-fstack-usage", "-c", source, "-o", object])
          try #require(built.succeeded, "\(built.summary)")
          let (bytes, chain) = Self.deepestChain(calls: calls, frames: Self.frames(try String(contentsOf: su, encoding: .utf8)))
          if bytes > worst.bytes { worst = (bytes, "\(label) \(level) \(mode): \(chain.joined(separator: " → "))") }
          #expect(bytes <= declared, "\(name), \(label) \(level) \(mode): \(bytes) bytes (\(chain.joined(separator: " → "))) > \(declared) declared")
        }
      }
    }
    print("stack \(name): declared \(declared), measured at most \(worst.bytes) (\(worst.what))")
  }
}
