// The single error type every reader in Formats/ throws.
// Messages are lower-case fragments; the caller prefixes the file name.

/// A malformed, truncated or unsupported input file.
///
/// `message` never names the file (the caller knows it and prefixes it) and has no final
/// period, so callers can compose "weights.npz: member 'w.npy': <message>".
struct FormatError: Error, Equatable, CustomStringConvertible {
  var message: String

  init(_ message: String) {
    self.message = message
  }

  var description: String { message }

  /// The same error with a context prefix, e.g. "member 'w.npy': ...".
  func prefixed(_ context: String) -> FormatError {
    FormatError("\(context): \(message)")
  }
}
