// Near misses for "did you mean" notes and messages: a name the user typed against the names
// that exist at that place (options, commands, functions, layers).

/// The candidate closest to `word` when it is close enough to be a misspelling of it (a few
/// edits, fewer for short words), else nil. Ties go to the earlier candidate.
func closestSpelling(to word: String, among candidates: [String]) -> String? {
  let limit = max(1, min(2, word.count / 2))
  var best: (name: String, distance: Int)?
  for c in candidates where c != word {
    let d = spellingDistance(c, word)
    if d <= limit, d < (best?.distance ?? .max) { best = (c, d) }
  }
  return best?.name
}

/// Edits from one word to the other, a swap of two neighbouring characters counting as one
/// (`trian` is one edit from `train`, as a typist sees it).
func spellingDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a.utf8)
  let b = Array(b.utf8)
  if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
  var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
  for i in 0...a.count { d[i][0] = i }
  for j in 0...b.count { d[0][j] = j }
  for i in 1...a.count {
    for j in 1...b.count {
      let cost = a[i - 1] == b[j - 1] ? 0 : 1
      d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
    }
  }
  return d[a.count][b.count]
}
