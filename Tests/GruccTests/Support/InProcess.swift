// Runs the compiler's stages on model text without files: the front end, the standard pipeline
// (weights from the model's init rules or from given tensors), and the module after each pass.

import Foundation
import Testing

@testable import GruccCore

enum InProcess {
  static func source(_ text: String, path: String = "test.gru") -> SourceFile {
    SourceFile(path: path, text: text)
  }

  static func frontEnd(_ text: String, path: String = "test.gru") -> FrontEnd {
    Compiler.frontEnd(source(text, path: path))
  }

  /// The model's weights: `tensors` stand for the contents of its `weights` file.
  static func weightSource(_ model: Model, tensors: [NamedTensor]?) -> WeightSource {
    Compiler.weightSource(for: model, file: tensors)
  }

  /// The IR after irgen and after each pass of the standard pipeline, in order, with every
  /// diagnostic (sorted as the Driver prints them). The list stops where the pipeline stopped.
  struct Run {
    var stages: [(pass: String, module: Module)] = []
    var diagnostics: [Diagnostic] = []
    var failure: PipelineFailure?

    var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    func module(after pass: String) -> Module? { stages.first { $0.pass == pass }?.module }
  }

  static func run(_ text: String, tensors: [NamedTensor]? = nil, path: String = "test.gru") -> Run {
    run(bytes: Array(text.utf8), tensors: tensors, path: path)
  }

  static func run(bytes: [UInt8], tensors: [NamedTensor]? = nil, path: String = "test.gru") -> Run {
    let front = Compiler.frontEnd(SourceFile(path: path, bytes: bytes))
    var result = Run()
    guard let model = front.model, let module = front.module else {
      result.diagnostics = Compiler.sorted(front.diagnostics.diagnostics)
      return result
    }
    result.stages.append(("irgen", module))
    var diagnostics = front.diagnostics
    let pipeline = PassPipeline.standard(weights: weightSource(model, tensors: tensors))
    var stages: [(String, Module)] = []
    if case .failure(let failure) = pipeline.run(
      module, diagnostics: &diagnostics, observe: { stages.append(($0, $1)) })
    {
      result.failure = failure
    }
    result.stages += stages
    result.diagnostics = Compiler.sorted(diagnostics.diagnostics)
    return result
  }

  /// The module after the whole pipeline; records an issue and returns nil if the model fails.
  static func optimised(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Module? {
    let r = run(text)
    guard r.failure == nil, r.errors.isEmpty, let last = r.stages.last, last.pass == "dead-code-elimination" else {
      Issue.record("model did not compile: \(render(r.diagnostics, text))", sourceLocation: sourceLocation)
      return nil
    }
    return last.module
  }

  /// Diagnostics as the Driver would print them, for failure messages.
  static func render(_ diagnostics: [Diagnostic], _ text: String) -> String {
    DiagnosticRenderer(source: source(text)).render(diagnostics)
  }
}

extension DiagnosticMessage {
  /// The enum case without its payload: tests match this and the location, not the wording.
  var caseName: String {
    Mirror(reflecting: self).children.first?.label ?? String(describing: self)
  }
}

extension Diagnostic {
  /// `line:column`, for comparing locations.
  var position: String { "\(range.start.line):\(range.start.column)" }
}

/// A temporary directory removed when `body` returns.
func withScratchDirectory<T>(_ body: (String) throws -> T) throws -> T {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("grucc-test-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: path) }
  return try body(path)
}
