// Training's gradients in compiled C: the forward module and its gradient module (Autodiff's)
// emitted by CGraphProgram, compiled once per model structure (and per instance: no process-wide
// cache) with the C compiler found here, loaded with dlopen and called every step. The loss and
// its seeds stay in Swift (Loss.evaluate, as Autodiff computes them), so it differs from the
// interpreter only in who runs the graphs. grucc train runs the whole step in C instead
// (CompiledTrainStep); this LossGradient stays for the tests that compare the graphs alone.

import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why the compiled backend cannot run: no compiler, a compile or load failure, a graph the
/// emitter does not handle. The driver reports it and trains in the interpreter instead.
public struct CompiledGradientError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public var description: String { message }

  public init(_ message: String) { self.message = message }
}

/// The C compiler training compiles with: `$CC`, else `clang`, else `cc`, found in PATH.
public struct TrainingCompiler: Sendable {
  public var path: String
  /// The optimisation flag; any level computes the same bits (contraction is off).
  public var optimisation = "-O3"

  public static func find(environment: [String: String] = ProcessInfo.processInfo.environment) -> Result<TrainingCompiler, CompiledGradientError> {
    let searchPath = environment["PATH"] ?? "/usr/bin:/bin"
    func locate(_ name: String) -> String? {
      if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
      for dir in searchPath.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
        return "\(dir)/\(name)"
      }
      return nil
    }
    if let cc = environment["CC"], !cc.isEmpty {
      guard let path = locate(cc) else { return .failure(CompiledGradientError("CC=\(cc): not found or not executable")) }
      return .success(TrainingCompiler(path: path))
    }
    // clang before cc (gcc on Linux): side by side on a shared 2-core Zen 4 (load 5 to 10,
    // medians of 3 and 5 short/long run pairs, 2026-12-06) the compiled step ran the adder at
    // 1556-1723 steps/s with clang -O3 against 606-870 with gcc -O3, and H = I = 128 at 31
    // against 28 (8 pairs); the standalone adder step had measured gcc 1.4x slower too.
    for name in ["clang", "cc"] {
      if let path = locate(name) { return .success(TrainingCompiler(path: path)) }
    }
    return .failure(CompiledGradientError("clang: not found, cc: not found, CC unset"))
  }

  /// Compiles `source` into a shared library at `library`; the compiler's messages on failure.
  func compileShared(_ source: String, library: String) throws(CompiledGradientError) {
    let file = library + ".c"
    guard FileManager.default.createFile(atPath: file, contents: Data(source.utf8)) else {
      throw CompiledGradientError("cannot write \(file)")
    }
    // Contraction into FMA would change the last bits against the interpreter, which rounds
    // every product and sum on its own. -march=native: the library runs only here, and the
    // products' blocks fill this machine's vector registers (AVX-512: 4×, not SSE's); a
    // compiler that rejects it compiles again without.
    let flags = ["-std=c99", optimisation, "-ffp-contract=off", "-shared", "-fPIC", "-o", library, file, "-lm"]
    let first = try run(["-march=native"] + flags)
    guard first.status != 0 else { return }
    let second = try run(flags)
    guard second.status != 0 else { return }
    let text = second.output.split(separator: "\n").prefix(5).joined(separator: "\n")
    throw CompiledGradientError("\(path) failed (status \(second.status)): \(text)")
  }

  /// Compiles `source` (with `headers` written beside it) into a shared library in a fresh
  /// temporary directory and loads it. The directory is removed once the library is loaded: a
  /// loaded library stays mapped, and it is never unloaded.
  func load(_ source: String, headers: [(name: String, text: String)] = [], stem: String) throws(CompiledGradientError) -> LoadedLibrary {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("grucc-\(stem)-\(UUID().uuidString)")
    do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
      throw CompiledGradientError("cannot create \(directory.path): \(error.localizedDescription)")
    }
    defer { try? FileManager.default.removeItem(at: directory) }
    for header in headers {
      guard FileManager.default.createFile(atPath: directory.appendingPathComponent(header.name).path, contents: Data(header.text.utf8)) else {
        throw CompiledGradientError("cannot write \(directory.path)/\(header.name)")
      }
    }
    let library = directory.appendingPathComponent("\(stem).so").path
    try compileShared(source, library: library)
    guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
      throw CompiledGradientError("dlopen \(library): \(dlerror().map { String(cString: $0) } ?? "failed")")
    }
    return LoadedLibrary(handle: handle, path: library)
  }

  private func run(_ arguments: [String]) throws(CompiledGradientError) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let messages = Pipe()
    process.standardError = messages
    process.standardOutput = messages
    do { try process.run() } catch { throw CompiledGradientError("\(path): \(error.localizedDescription)") }
    let output = messages.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
  }
}

/// A library `TrainingCompiler.load` opened.
struct LoadedLibrary {
  let handle: UnsafeMutableRawPointer
  let path: String

  /// The function `name`, as the C type `F` it has.
  func symbol<F>(_ name: String, as: F.Type) throws(CompiledGradientError) -> F {
    guard let s = dlsym(handle, name) else { throw CompiledGradientError("dlsym \(name): not found in \(path)") }
    return unsafeBitCast(s, to: F.self)
  }
}

/// `void f(size_t B, size_t T, params, inputs, lengths, outputs, arena)`; see CGraphProgram.
private typealias GraphEntry = @convention(c) (
  Int, Int, UnsafeRawPointer?, UnsafePointer<UnsafeRawPointer?>?, UnsafePointer<Int32>?,
  UnsafePointer<UnsafeMutableRawPointer?>?, UnsafeMutableRawPointer?
) -> Void

/// A loaded library: the forward and gradient functions of one model structure. The library is
/// never unloaded (no dlclose): a function pointer taken from it stays valid.
final class CompiledProgram: @unchecked Sendable {
  fileprivate let forward: (entry: GraphEntry, function: CGraphFunction)
  fileprivate let gradient: (entry: GraphEntry, function: CGraphFunction)
  /// The scratch, grown as batches need and reused: the lock serialises calls.
  private var arena: UnsafeMutableRawPointer?
  private var arenaBytes = 0
  let lock = NSLock()

  fileprivate init(forward: (GraphEntry, CGraphFunction), gradient: (GraphEntry, CGraphFunction)) {
    self.forward = forward
    self.gradient = gradient
  }

  deinit { arena?.deallocate() }

  /// Scratch of at least `bytes`; call with the lock held.
  func scratch(_ bytes: Int) -> UnsafeMutableRawPointer {
    if bytes > arenaBytes || arena == nil {
      arena?.deallocate()
      arena = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 16), alignment: 64)
      arenaBytes = max(bytes, 16)
    }
    return arena!
  }
}

/// The programs one CompiledGradient has built, by the text of the forward C (which is the
/// model's structure: parameters enter as a pointer, so new weights reuse the library).
private final class ProgramCache: @unchecked Sendable {
  let lock = NSLock()
  var programs: [String: CompiledProgram] = [:]
}

/// Training's gradient with the graphs in compiled C and the loss in Swift. grucc train runs the
/// whole step in C instead (CompiledTrainStep); this one stays for comparing the graphs alone.
public struct CompiledGradient: LossGradient {
  public var compiler: TrainingCompiler
  /// This instance's libraries (copies of the value share them): no process-wide state.
  private let cache = ProgramCache()

  public init(compiler: TrainingCompiler) { self.compiler = compiler }

  /// Compiles (or finds) the program for `module`'s structure: training calls this first, so a
  /// failure is reported before any step.
  @discardableResult
  func program(for module: Module) throws(CompiledGradientError) -> CompiledProgram {
    let key: String
    do throws(CGraphUnsupported) {
      key = try CGraphProgram.emit([("grucc_forward", module)]).source
    } catch {
      throw CompiledGradientError(error.message)
    }
    cache.lock.lock()
    defer { cache.lock.unlock() }
    if let found = cache.programs[key] { return found }
    let built = try build(module)
    cache.programs[key] = built
    return built
  }

  /// Checks that `module` compiles and loads here; the reason when it does not.
  public func prepare(_ module: Module) throws(CompiledGradientError) { try program(for: module) }

  private func build(_ module: Module) throws(CompiledGradientError) -> CompiledProgram {
    let gradientModule: Module
    do { gradientModule = try Autodiff.gradientModule(module) } catch { throw CompiledGradientError("\(error)") }
    let source: String
    let functions: [CGraphFunction]
    do throws(CGraphUnsupported) {
      (source, functions) = try CGraphProgram.emit(
        [("grucc_forward", module), ("grucc_gradient", gradientModule)], parameters: module.parameters)
    } catch {
      throw CompiledGradientError(error.message)
    }
    let library = try compiler.load(source, stem: "train")
    return CompiledProgram(
      forward: (try library.symbol("grucc_forward", as: GraphEntry.self), functions[0]),
      gradient: (try library.symbol("grucc_gradient", as: GraphEntry.self), functions[1]))
  }

  public func evaluate(_ module: Module, batch: TrainingBatch, loss: Loss) throws -> (loss: Double, gradients: [String: [Double]]) {
    let program = try program(for: module)
    program.lock.lock()
    defer { program.lock.unlock() }
    switch module.precision {
    case .f32: return try Self.evaluate(Float.self, program, module, batch, loss)
    case .f64: return try Self.evaluate(Double.self, program, module, batch, loss)
    }
  }

  private static func evaluate<S: InterpreterScalar>(
    _: S.Type, _ program: CompiledProgram, _ module: Module, _ batch: TrainingBatch, _ loss: Loss
  ) throws -> (loss: Double, gradients: [String: [Double]]) {
    let (B, T) = try batchSize(module, batch)
    let parameters = module.parameters.flatMap { $0.values.map { S($0) } }
    let lengths = try lengthValues(program.forward.function, batch, T: T)
    let forwardOutputs = try run(program, program.forward, B: B, T: T, parameters, batch.inputs, lengths)
    let batchLengths = lengths.map { $0.map { Int($0) } }
    var total = 0.0
    var seeded = batch.inputs
    for (name, value) in forwardOutputs {
      var seed = [Double](repeating: 0, count: value.values.count)
      if let target = batch.targets[name] {
        let (v, gradient) = loss.evaluate(output: value, target: target, lengths: batchLengths)
        total += v
        seed = gradient
      }
      seeded[Differentiate.seedName(name)] = ArrayValue(shape: value.shape, values: seed)
    }
    let results = try run(program, program.gradient, B: B, T: T, parameters, seeded, lengths)
    var gradients: [String: [Double]] = [:]
    for p in module.parameters {
      gradients[p.name] = results.first { $0.name == Differentiate.gradientName(p.name) }?.value.values
        ?? [Double](repeating: 0, count: p.count)
    }
    return (total, gradients)
  }

  /// B and T from the sequence input, as the interpreter takes them.
  private static func batchSize(_ module: Module, _ batch: TrainingBatch) throws -> (Int, Int) {
    for i in module.graph.argumentNodes {
      guard case .argument(let name, let type) = module.graph.nodes[i].op, type.rank == 3 else { continue }
      guard let value = batch.inputs[name] else { throw TrainingError("missing input '\(name)'") }
      guard value.shape.count == 3, value.shape[0] >= 1, value.shape[1] >= 1, value.shape[2] == type.features else {
        throw TrainingError("input '\(name)' has shape \(shapeText(value.shape)), expected [B, T, \(type.features)]")
      }
      return (value.shape[0], value.shape[1])
    }
    throw TrainingError("internal: the model has no sequence input")
  }

  private static func lengthValues(_ function: CGraphFunction, _ batch: TrainingBatch, T: Int) throws -> [Int32]? {
    guard let name = function.lengthsName else { return nil }
    guard let value = batch.inputs[name] else { throw TrainingError("missing input '\(name)'") }
    return try value.values.map { v in
      guard v == v.rounded(), v >= 0, v <= Double(T) else {
        throw TrainingError("lengths '\(name)' must be whole numbers from 0 to T = \(T), found \(v)")
      }
      return Int32(v)
    }
  }

  /// Calls one compiled graph: checks each input's size against B and T (the C trusts them),
  /// converts to the model's precision, and returns the outputs by name with their shapes.
  private static func run<S: InterpreterScalar>(
    _ program: CompiledProgram, _ compiled: (entry: GraphEntry, function: CGraphFunction),
    B: Int, T: Int, _ parameters: [S], _ inputs: [String: ArrayValue], _ lengths: [Int32]?
  ) throws -> [(name: String, value: ArrayValue)] {
    let function = compiled.function
    if let lengths, lengths.count != B {
      throw TrainingError("lengths '\(function.lengthsName ?? "")' has \(lengths.count) values for B = \(B)")
    }
    // Buffers the C reads and writes, freed on every path out.
    var buffers: [UnsafeMutableBufferPointer<S>] = []
    defer { for b in buffers { b.deallocate() } }
    var inputPointers: [UnsafeRawPointer?] = []
    for (k, name) in function.inputNames.enumerated() {
      guard let value = inputs[name] else { throw TrainingError("missing input '\(name)'") }
      let shape = concrete(function.inputDims[k], B: B, T: T)
      guard value.shape == shape, value.values.count == shape.reduce(1, *) else {
        throw TrainingError("input '\(name)' has shape \(shapeText(value.shape)), expected \(shapeText(shape))")
      }
      let buffer = UnsafeMutableBufferPointer<S>.allocate(capacity: max(1, value.values.count))
      buffers.append(buffer)
      for (i, v) in value.values.enumerated() {
        let x = S(v)
        guard x.isFinite else { throw TrainingError("input '\(name)' has the value \(v), not finite in the model's precision") }
        buffer[i] = x
      }
      inputPointers.append(UnsafeRawPointer(buffer.baseAddress))
    }
    let outputShapes = function.outputDims.map { concrete($0, B: B, T: T) }
    var outputPointers: [UnsafeMutableRawPointer?] = []
    var outputBuffers: [UnsafeMutableBufferPointer<S>] = []
    for shape in outputShapes {
      let buffer = UnsafeMutableBufferPointer<S>.allocate(capacity: max(1, shape.reduce(1, *)))
      buffers.append(buffer)
      outputBuffers.append(buffer)
      outputPointers.append(UnsafeMutableRawPointer(buffer.baseAddress))
    }
    let scratch = program.scratch(function.arenaValues(B: B, T: T) * MemoryLayout<S>.stride)
    parameters.withUnsafeBytes { p in
      inputPointers.withUnsafeBufferPointer { i in
        outputPointers.withUnsafeBufferPointer { o in
          if let lengths {
            lengths.withUnsafeBufferPointer { l in compiled.entry(B, T, p.baseAddress, i.baseAddress, l.baseAddress, o.baseAddress, scratch) }
          } else {
            compiled.entry(B, T, p.baseAddress, i.baseAddress, nil, o.baseAddress, scratch)
          }
        }
      }
    }
    return zip(function.outputNames, zip(outputShapes, outputBuffers)).map { name, o in
      (name, ArrayValue(shape: o.0, values: (0..<o.0.reduce(1, *)).map { Double(o.1[$0]) }))
    }
  }

  static func concrete(_ dims: [Dim], B: Int, T: Int) -> [Int] {
    dims.map { d in
      switch d {
      case .batch: return B
      case .time: return T
      case .fixed(let n): return n
      }
    }
  }
}

