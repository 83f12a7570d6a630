// Near misses for "did you mean" notes and messages: a name the user typed against the names
// that exist at that place (options, commands, functions, layers).

/// The candidate closest to `word` when it is close enough to be a misspelling of it (a few
/// edits, fewer for short words), else nil. Ties go to the earlier candidate.
func closestSpelling(to word: String, among candidates: [String]) -> String? {
  let limit = max(1, min(2, word.count / 2))
  var best: (name: String, distance: Int)?
  for c in candidates where c != word {
    let d = editDistance(c, word)
    if d <= limit, d < (best?.distance ?? .max) { best = (c, d) }
  }
  return best?.name
}
