// Name lookup of a module's parameters in constant time. The verifier types every `parameter`
// node and the passes type every node they build by looking its tensor up by name; a linear
// search there made checking a model quadratic in its number of layers.

import Foundation

/// The position of each parameter name in one value of `Module.parameters`, built on the first
/// lookup. `Module` swaps in an empty index whenever `parameters` is assigned or modified in
/// place, so an index never describes another array; `Module.appendParameter` extends it instead,
/// copying it first when another copy of the module shares it. Once built, an index shared by
/// copies is only read; the lock orders its one build.
final class ParameterIndex: @unchecked Sendable {
  private let lock = NSLock()
  private var positions: [String: Int]?

  init() {}

  private init(positions: [String: Int]) { self.positions = positions }

  func position(of name: String, in parameters: [Parameter]) -> Int? {
    lock.lock()
    defer { lock.unlock() }
    return built(parameters)[name]
  }

  /// This index (when `unique`) or a copy of it, describing `parameters` plus `appended`.
  func appending(_ appended: Parameter, to parameters: [Parameter], unique: Bool) -> ParameterIndex {
    lock.lock()
    defer { lock.unlock() }
    if unique {
      // In place: a copy of the table here would make n additions cost n² again.
      if positions == nil { positions = built(parameters) }
      if positions![appended.name] == nil { positions![appended.name] = parameters.count }
      return self
    }
    var table = built(parameters)
    if table[appended.name] == nil { table[appended.name] = parameters.count }
    return ParameterIndex(positions: table)
  }

  /// Must be called with the lock held.
  private func built(_ parameters: [Parameter]) -> [String: Int] {
    if let positions { return positions }
    var table: [String: Int] = [:]
    table.reserveCapacity(parameters.count)
    // The first of two equal names wins, as a front-to-back search would find it.
    for (i, p) in parameters.enumerated() where table[p.name] == nil { table[p.name] = i }
    positions = table
    return table
  }
}

extension Module {
  /// Appends a parameter, keeping the name index (passes that add tensors one by one while
  /// looking others up would otherwise rebuild it after every addition).
  mutating func appendParameter(_ parameter: Parameter) {
    let unique = isKnownUniquelyReferenced(&parameterIndex)
    let index = parameterIndex.appending(parameter, to: parameters, unique: unique)
    parameters.append(parameter)
    parameterIndex = index
  }
}
