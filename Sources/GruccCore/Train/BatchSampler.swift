// Which examples each training step sees: mini-batches drawn without replacement from a
// permutation that is reshuffled every epoch, all from one seeded Xoshiro256 stream.

struct BatchSampler {
  let count: Int
  let batchSize: Int
  private var random: Xoshiro256
  private var order: [Int]
  private var cursor: Int

  /// Everything that decides the batches still to come. Each shuffle permutes the previous
  /// order, so the order is part of it, beside the generator and the position in the epoch.
  struct State: Sendable, Equatable {
    var random: [UInt64]
    var order: [Int]
    var cursor: Int
  }

  /// `batchSize` at or above `count` means the whole set, in order, every step: full-batch
  /// training then sums the loss in the same order as the reported training loss.
  init(count: Int, batchSize: Int, seed: UInt64) {
    self.count = count
    self.batchSize = min(batchSize, count)
    random = Xoshiro256(seed: seed)
    order = Array(0..<count)
    cursor = count  // shuffle before the first batch
  }

  /// A sampler that continues from `state`; nil if the state cannot be one of `count` examples
  /// (the order is not a permutation of them, the cursor is past them, the generator is not one).
  init?(count: Int, batchSize: Int, state: State) {
    guard state.order.count == count, state.order.sorted() == Array(0..<count), (0...count).contains(state.cursor),
      let random = Xoshiro256(words: state.random)
    else { return nil }
    self.count = count
    self.batchSize = min(batchSize, count)
    self.random = random
    order = state.order
    cursor = state.cursor
  }

  var state: State { State(random: random.words, order: order, cursor: cursor) }

  var isWholeSet: Bool { batchSize == count }

  mutating func next() -> [Int] {
    if isWholeSet { return order }
    // An epoch ends when fewer than a batch remain; the leftovers wait for the next shuffle.
    if cursor + batchSize > count {
      shuffle()
      cursor = 0
    }
    defer { cursor += batchSize }
    return Array(order[cursor..<(cursor + batchSize)])
  }

  /// Fisher–Yates; the index is the high half of a 128-bit product, which has no modulo bias.
  private mutating func shuffle() {
    for i in stride(from: count - 1, to: 0, by: -1) {
      let j = Int(random.next().multipliedFullWidth(by: UInt64(i + 1)).high)
      order.swapAt(i, j)
    }
  }
}
