// Robustness: thousands of seeded random mutations and truncations of the Spec files go through
// the front end, and through the pipeline and C emitter when they pass. Nothing may crash, a
// rejected file always says why, and the verifier never fails (that would be a compiler bug).

import Foundation
import Testing

@testable import GruccCore

@Suite struct RobustnessTests {
  static let mutantsPerSpec = 400

  /// Words and bytes a mutation may insert: the language's own vocabulary, extreme numbers and junk.
  static let vocabulary: [String] =
    Parser.statementKeywords + [
      "hidden", "reset", "update", "bias", "direction", "merge", "initial", "output-activation", "steps", "layout",
      "lengths", "before", "after", "none", "keeps-state", "takes-candidate", "single", "separate", "bidirectional",
      "reverse", "concat", "sum", "given", "dense", "state", "mean", "max", "last", "softmax", "tanh", "unshared",
      "orthogonal", "normal(0.1)", "seed", "=", "->", ",", "(", ")", "[", "]", ".", "*", "\"", "#", "\n", "\r\n", "0",
      "1",
      "-1", "65536", "65537", "99999999999999999999", "1e999", "-0.0", "h", "x", "y", "\u{0}", "\u{FF}", "é", "@",
    ]

  struct Mutator {
    var rng: SplitMix64

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }

    mutating func mutate(_ original: [UInt8]) -> [UInt8] {
      var bytes = original
      for _ in 0..<Int.random(in: 1...4, using: &rng) {
        let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<7, using: &rng) {
        case 0: bytes = Array(bytes[..<at])  // truncate
        case 1 where !bytes.isEmpty: bytes[at] = UInt8.random(in: 0...255, using: &rng)  // flip a byte
        case 2:  // delete a span
          let end = min(bytes.count, at + Int.random(in: 1...12, using: &rng))
          bytes.removeSubrange(at..<end)
        case 3: bytes.insert(contentsOf: Array((" " + pick(RobustnessTests.vocabulary) + " ").utf8), at: at)
        case 4:  // duplicate or drop a whole line
          var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
          guard !lines.isEmpty else { continue }
          let i = Int.random(in: 0..<lines.count, using: &rng)
          if Bool.random(using: &rng) { lines.insert(lines[i], at: i) } else { lines.remove(at: i) }
          bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
        case 5:  // swap two lines
          var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
          guard lines.count > 1 else { continue }
          lines.swapAt(Int.random(in: 0..<lines.count, using: &rng), Int.random(in: 0..<lines.count, using: &rng))
          bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
        default:  // replace a number with an extreme one
          guard let digit = bytes.indices.filter({ bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }).randomElement(using: &rng)
          else { continue }
          bytes.replaceSubrange(digit...digit, with: Array(pick(["0", "-3", "70000", "1e999", "2.5", "x"]).utf8))
        }
      }
      return bytes
    }
  }

  /// Sizes small enough that initialising and emitting the weights stays quick.
  func isSmall(_ model: Model) -> Bool {
    let limit = 512
    guard model.input.features <= limit, (model.input.steps ?? 1) <= 64 else { return false }
    for d in model.definitions {
      switch d {
      case .gru(let l): if l.hidden > limit { return false }
      case .sequence: continue
      case .norm: continue
      case .value(let v): if !headIsSmall(v.value, limit) { return false }
      }
    }
    return true
  }

  private func headIsSmall(_ e: HeadExpr, _ limit: Int) -> Bool {
    switch e {
    case .ref, .state: return true
    case .dense(let x, let units, _, _): return units <= limit && headIsSmall(x, limit)
    case .activation(_, let x, _), .reduce(_, let x, _): return headIsSmall(x, limit)
    }
  }

  static let specs = DeterminismTests.specs

  @Test(arguments: specs)
  func mutatedSpecsNeverCrash(spec: String) throws {
    let original = try #require(FileManager.default.contents(atPath: Golden.root + "/" + spec)).map { $0 }
    var mutator = Mutator(rng: SplitMix64(state: UInt64(spec.utf8.count) &* 0x9E37_79B9))
    var accepted = 0
    var compiled = 0
    for i in 0..<Self.mutantsPerSpec {
      let bytes = mutator.mutate(original)
      let source = SourceFile(path: "mutant.gru", bytes: bytes)
      let front = Compiler.frontEnd(source)
      _ = DiagnosticRenderer(source: source).render(Compiler.sorted(front.diagnostics.diagnostics))
      guard let model = front.model, let module = front.module else {
        #expect(front.diagnostics.hasErrors, "mutant \(i) of \(spec) was rejected without an error")
        continue
      }
      accepted += 1
      guard isSmall(model) else { continue }
      var diagnostics = front.diagnostics
      let pipeline = PassPipeline.standard(weights: Compiler.weightSource(for: model, file: nil))
      switch pipeline.run(module, diagnostics: &diagnostics) {
      case .success(let optimised):
        compiled += 1
        _ = IRPrinter.print(optimised)
        // Emitting C is the slow part in a debug build, so only every fourth compiled mutant.
        if compiled % 4 == 1 { _ = CEmitter.emit(optimised, headerName: "mutant.h") }
      case .failure(.diagnostics):
        #expect(diagnostics.hasErrors)
      case .failure(.verifier(let pass, let errors, _)):
        Issue.record(
          "mutant \(i) of \(spec) broke the verifier after \(pass): \(errors)\n\(String(decoding: bytes, as: UTF8.self))"
        )
      }
    }
    // The mutations must leave some files valid, or the later stages would go untested.
    #expect(accepted > Self.mutantsPerSpec / 20, "only \(accepted) mutants of \(spec) passed the front end")
    #expect(compiled > 0)
  }

  /// Random bytes and random token soup, not derived from any model.
  @Test func randomInputNeverCrashes() {
    var mutator = Mutator(rng: SplitMix64(state: 7))
    for length in stride(from: 0, to: 2000, by: 7) {
      let noise = (0..<length).map { _ in UInt8.random(in: 0...255, using: &mutator.rng) }
      var soup = ""
      for _ in 0..<(length / 4) { soup += mutator.pick(Self.vocabulary) + mutator.pick([" ", " ", "\n"]) }
      for bytes in [noise, Array(soup.utf8)] {
        let front = Compiler.frontEnd(SourceFile(path: "noise.gru", bytes: bytes))
        #expect(front.module == nil || !front.diagnostics.hasErrors)
        if front.module == nil { #expect(front.diagnostics.hasErrors) }
      }
    }
  }
}
