// Dense row-major tensors for the interpreter, and the plain arrays that cross its interface.

/// A row-major tensor of `S`.
public struct Tensor<S: InterpreterScalar>: Sendable {
  public var shape: [Int]
  public var data: [S]

  public init(shape: [Int], data: [S]) {
    precondition(shape.reduce(1, *) == data.count, "tensor data does not fit its shape")
    self.shape = shape
    self.data = data
  }

  public init(zeros shape: [Int]) { self.init(shape: shape, data: Array(repeating: 0, count: shape.reduce(1, *))) }

  /// The size of the last axis.
  public var features: Int { shape.last ?? 1 }

  /// The number of rows when the last axis is seen as the row length.
  public var rows: Int { features == 0 ? 0 : data.count / features }
}

/// An array of numbers with a shape: what callers pass in and get back, in Double whatever the
/// model's precision (every Float is exactly a Double).
public struct ArrayValue: Sendable, Equatable {
  public var shape: [Int]
  public var values: [Double]

  public init(shape: [Int], values: [Double]) {
    self.shape = shape
    self.values = values
  }
}
