// Reader and writer for NumPy .npz archives: ZIP files whose members are .npy files,
// stored (np.savez) or deflated (np.savez_compressed), with ZIP64 fields as numpy writes them.

/// Entry points for reading and writing .npz archives.
enum Npz {
  static let localHeaderSignature: UInt32 = 0x0403_4B50
  static let centralHeaderSignature: UInt32 = 0x0201_4B50
  static let endSignature: UInt32 = 0x0605_4B50
  static let zip64EndSignature: UInt32 = 0x0606_4B50
  static let zip64LocatorSignature: UInt32 = 0x0706_4B50
  /// DOS date for 1980-01-01 (the earliest DOS date), with time 00:00:00, as numpy uses.
  static let dosDate: UInt16 = 1 << 5 | 1

  /// One central directory record, with ZIP64 values already substituted.
  struct Member {
    var name: String
    var method: Int
    var crc: UInt32
    var compressedSize: Int
    var size: Int
    var localHeaderOffset: Int
  }

  /// Reads every member of the archive in central-directory order, checking sizes and
  /// CRC-32s, and parses each as .npy. Array names are member names minus ".npy". Before a
  /// member is inflated, its .npy header is read from the first bytes of its data, so what the
  /// archive holds (its members' data and their values at 8 bytes each) is held to `budget`
  /// whatever sizes the archive declares.
  static func read(_ bytes: [UInt8], budget: MemoryBudget = .standard) throws(FormatError) -> [(name: String, array: NpyArray)] {
    var result: [(name: String, array: NpyArray)] = []
    var seen = Set<String>()
    var held = 0
    for member in try centralDirectory(bytes) {
      let what = "member \(quoted(member.name))"
      guard member.name.hasSuffix(".npy") else { throw FormatError("\(what) is not a .npy file") }
      let name = String(member.name.dropLast(4))
      guard seen.insert(name).inserted else { throw FormatError("archive has more than one \(what)") }
      let header: Npy.Header
      do throws(FormatError) {
        header = try Npy.header(memberPrefix(bytes, member))
      } catch {
        throw error.prefixed(what)
      }
      let need = Checked.sum([held, member.size, header.decodedBytes])
      let holding = "\(what) (the \(header.what)), as data and as 8-byte values" + (result.isEmpty ? "," : " with the members before it,")
      if let refusal = budget.refusal(need, for: holding) { throw FormatError(refusal) }
      held = need ?? held
      let data = try memberData(bytes, member)
      do throws(FormatError) {
        result.append((name, try Npy.read(data, budget: budget)))
      } catch {
        throw error.prefixed(what)
      }
    }
    return result
  }

  /// The start of a member's data, inflated if need be: at least its whole .npy header when the
  /// member is long enough to hold one.
  static func memberPrefix(_ bytes: [UInt8], _ member: Member) throws(FormatError) -> [UInt8] {
    let (start, end) = try dataRange(bytes, member)
    guard member.method == 8 else {
      let first = Array(bytes[start..<min(end, start + 4096)])
      if let length = Npy.headerLength(first), length > first.count { return Array(bytes[start..<min(end, start + length)]) }
      return first
    }
    func inflated(_ count: Int) throws(FormatError) -> [UInt8] {
      do throws(FormatError) {
        return try Inflate.inflatePrefix(bytes[start..<end], count: min(count, member.size))
      } catch {
        throw error.prefixed("member \(quoted(member.name))")
      }
    }
    let prefix = try inflated(4096)
    // A header longer than the first guess (numpy pads it to 64 bytes, so that is rare).
    if let length = Npy.headerLength(prefix), length > prefix.count { return try inflated(length) }
    return prefix
  }

  /// Locates the end-of-central-directory record and parses the central directory.
  static func centralDirectory(_ bytes: [UInt8]) throws(FormatError) -> [Member] {
    guard bytes.count >= 22 else {
      throw FormatError("file has \(bytes.count) bytes, too short for a zip archive")
    }
    // The record is 22 bytes plus a comment of at most 65535 bytes, so the scan is bounded.
    // The comment may itself contain the signature, so prefer the candidate whose comment
    // length reaches exactly to the end of the file, and fall back to the last one found.
    var found: Int?
    var candidate = bytes.count - 22
    let lowest = max(0, candidate - 65535)
    while candidate >= lowest {
      if bytes.le32(at: candidate) == endSignature {
        if found == nil { found = candidate }
        if candidate + 22 + Int(bytes.le16(at: candidate + 20)) == bytes.count {
          found = candidate
          break
        }
      }
      candidate -= 1
    }
    guard let end = found else {
      throw FormatError("not a zip archive: no end of central directory record (truncated?)")
    }
    var entryCount = Int(bytes.le16(at: end + 10))
    var directorySize = Int(bytes.le32(at: end + 12))
    var directoryOffset = Int(bytes.le32(at: end + 16))
    var directoryLimit = end
    if bytes.le16(at: end + 4) != 0 || bytes.le16(at: end + 6) != 0 {
      throw FormatError("multi-disk zip archives are not supported")
    }
    if end >= 20 && bytes.le32(at: end - 20) == zip64LocatorSignature {
      let recordOffset = bytes.le64(at: end - 12)
      let latestRecord = end - 20 - 56  // the 56-byte record must end before the locator
      guard latestRecord >= 0, recordOffset <= UInt64(latestRecord),
        bytes.le32(at: Int(recordOffset)) == zip64EndSignature
      else {
        throw FormatError("zip64 end of central directory locator points to byte \(recordOffset), where there is no zip64 record")
      }
      let r = Int(recordOffset)
      guard let count = Int(exactly: bytes.le64(at: r + 32)), let size = Int(exactly: bytes.le64(at: r + 40)),
        let offset = Int(exactly: bytes.le64(at: r + 48))
      else { throw FormatError("zip64 central directory values are out of range") }
      (entryCount, directorySize, directoryOffset, directoryLimit) = (count, size, offset, r)
    }
    guard let directoryEnd = Checked.add(directoryOffset, directorySize), directoryEnd <= directoryLimit else {
      throw FormatError(
        "central directory (offset \(directoryOffset), \(directorySize) bytes) does not fit before byte \(directoryLimit)")
    }
    // Each record takes at least 46 bytes; checking first keeps a hostile count from looping long.
    guard entryCount <= directorySize / 46 else {
      throw FormatError("central directory claims \(entryCount) members but has only \(directorySize) bytes")
    }

    var members: [Member] = []
    var p = directoryOffset
    for index in 0..<entryCount {
      guard p + 46 <= directoryEnd, bytes.le32(at: p) == centralHeaderSignature else {
        throw FormatError("central directory record \(index) at byte \(p) is missing or corrupt")
      }
      let nameLength = Int(bytes.le16(at: p + 28))
      let extraLength = Int(bytes.le16(at: p + 30))
      let commentLength = Int(bytes.le16(at: p + 32))
      let nameStart = p + 46
      let next = nameStart + nameLength + extraLength + commentLength
      guard next <= directoryEnd else {
        throw FormatError("central directory record \(index) at byte \(p) runs past the end of the directory")
      }
      let nameBytes = bytes[nameStart..<(nameStart + nameLength)]
      guard firstInvalidUTF8(nameBytes) == nil else {
        throw FormatError("central directory record \(index) has a name that is not valid UTF-8")
      }
      var member = Member(
        name: String(decoding: nameBytes, as: UTF8.self), method: Int(bytes.le16(at: p + 10)),
        crc: bytes.le32(at: p + 16), compressedSize: Int(bytes.le32(at: p + 20)),
        size: Int(bytes.le32(at: p + 24)), localHeaderOffset: Int(bytes.le32(at: p + 42)))
      if bytes.le16(at: p + 8) & 1 != 0 {
        throw FormatError("member \(quoted(member.name)) is encrypted")
      }
      let extraStart = nameStart + nameLength
      try applyZip64Extra(bytes[extraStart..<(extraStart + extraLength)], to: &member)
      members.append(member)
      p = next
    }
    return members
  }

  /// Replaces 0xFFFFFFFF size and offset fields with the 64-bit values of the ZIP64 extra
  /// field (id 1), which lists only the fields that overflowed, in a fixed order.
  static func applyZip64Extra(_ extra: ArraySlice<UInt8>, to member: inout Member) throws(FormatError) {
    let marker = 0xFFFF_FFFF
    let needed = [member.size, member.compressedSize, member.localHeaderOffset].filter { $0 == marker }.count
    guard needed > 0 else { return }
    let extraBytes = Array(extra)
    var p = 0
    while p + 4 <= extraBytes.count {
      let id = extraBytes.le16(at: p)
      let length = Int(extraBytes.le16(at: p + 2))
      let body = p + 4
      guard body + length <= extraBytes.count else { break }
      if id == 1 {
        guard length >= needed * 8 else { break }
        var q = body
        var values: [Int] = []
        for _ in 0..<needed {
          guard let v = Int(exactly: extraBytes.le64(at: q)) else {
            throw FormatError("member \(quoted(member.name)) has a zip64 size or offset that is out of range")
          }
          values.append(v)
          q += 8
        }
        if member.size == marker { member.size = values.removeFirst() }
        if member.compressedSize == marker { member.compressedSize = values.removeFirst() }
        if member.localHeaderOffset == marker { member.localHeaderOffset = values.removeFirst() }
        return
      }
      p = body + length
    }
    throw FormatError("member \(quoted(member.name)) needs a zip64 extra field but has no valid one")
  }

  /// Finds a member's data through its local header and returns it decompressed and
  /// CRC-checked. Sizes come from the central directory, because numpy's local headers hold
  /// placeholder sizes.
  static func memberData(_ bytes: [UInt8], _ member: Member) throws(FormatError) -> [UInt8] {
    let what = "member \(quoted(member.name))"
    let (dataStart, dataEnd) = try dataRange(bytes, member)
    let compressed = bytes[dataStart..<dataEnd]
    let data: [UInt8]
    switch member.method {
    case 0:
      guard member.compressedSize == member.size else {
        throw FormatError("\(what) is stored uncompressed but its sizes differ (\(member.compressedSize) and \(member.size))")
      }
      data = Array(compressed)
    case 8:
      // The declared size bounds the output, but is itself checked against what the
      // compressed bytes could possibly hold rather than believed.
      guard let most = Inflate.maximumOutput(compressedSize: member.compressedSize), member.size <= most else {
        throw FormatError(
          "\(what) declares \(member.size) bytes uncompressed, more than its \(member.compressedSize) compressed bytes can hold")
      }
      do throws(FormatError) {
        data = try Inflate.inflate(compressed, limit: member.size)
      } catch {
        throw error.prefixed(what)
      }
      guard data.count == member.size else {
        throw FormatError("\(what) inflates to \(data.count) bytes but the archive declares \(member.size)")
      }
    default:
      throw FormatError("\(what) uses unsupported compression method \(member.method); only stored (0) and deflate (8) are supported")
    }
    let crc = CRC32.checksum(data)
    guard crc == member.crc else {
      throw FormatError("\(what) is corrupt: CRC-32 is \(hex(crc)) but the archive records \(hex(member.crc))")
    }
    return data
  }

  /// Where a member's (compressed) data lies in the archive, found through its local header.
  static func dataRange(_ bytes: [UInt8], _ member: Member) throws(FormatError) -> (start: Int, end: Int) {
    let what = "member \(quoted(member.name))"
    let h = member.localHeaderOffset
    guard h <= bytes.count - 30, bytes.le32(at: h) == localHeaderSignature else {
      throw FormatError("\(what) has no local header at byte \(h)")
    }
    let nameLength = Int(bytes.le16(at: h + 26))
    let nameStart = h + 30
    let dataStart = nameStart + nameLength + Int(bytes.le16(at: h + 28))
    guard let dataEnd = Checked.add(dataStart, member.compressedSize), dataEnd <= bytes.count else {
      throw FormatError("truncated: data of \(what) ends past the end of the file (\(bytes.count) bytes)")
    }
    guard bytes[nameStart..<(nameStart + nameLength)].elementsEqual(member.name.utf8) else {
      throw FormatError("\(what) has a different name in its local header")
    }
    return (dataStart, dataEnd)
  }

  static func hex(_ v: UInt32) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
  }

  /// Writes a deterministic, uncompressed ZIP of version 1.0 .npy members named
  /// "<name>.npy", in the given order, dated 1980-01-01 00:00. Names must be unique and the
  /// archive smaller than 4 GiB (no ZIP64 is written).
  static func write(_ arrays: [(name: String, values: [Double], shape: [Int], dtype: NpyDType)]) -> [UInt8] {
    precondition(arrays.count < 0xFFFF, "too many arrays for a zip archive without zip64")
    precondition(Set(arrays.map(\.name)).count == arrays.count, "duplicate array names")
    var out: [UInt8] = []
    var directory: [UInt8] = []
    for array in arrays {
      let name = Array((array.name + ".npy").utf8)
      precondition(name.count <= 0xFFFF, "array name \(quoted(array.name)) is too long")
      let data = Npy.write(values: array.values, shape: array.shape, dtype: array.dtype)
      let offset = out.count
      precondition(offset + 30 + name.count + data.count < 0xFFFF_FFFF, "archive would need zip64")
      // Bit 11 says the name is UTF-8; plain ASCII names leave it clear, as Python does.
      let flags: UInt64 = name.allSatisfy { $0 < 0x80 } ? 0 : 0x0800
      let crc = UInt64(CRC32.checksum(data))

      out.appendLE(UInt64(localHeaderSignature), size: 4)
      out.appendLE(20, size: 2)  // version needed: 2.0
      out.appendLE(flags, size: 2)
      out.appendLE(0, size: 2)  // method: stored
      out.appendLE(0, size: 2)  // time 00:00:00
      out.appendLE(UInt64(dosDate), size: 2)
      out.appendLE(crc, size: 4)
      out.appendLE(UInt64(data.count), size: 4)
      out.appendLE(UInt64(data.count), size: 4)
      out.appendLE(UInt64(name.count), size: 2)
      out.appendLE(0, size: 2)  // extra length
      out.append(contentsOf: name)
      out.append(contentsOf: data)

      directory.appendLE(UInt64(centralHeaderSignature), size: 4)
      directory.appendLE(20, size: 2)  // made by: MS-DOS, version 2.0
      directory.appendLE(20, size: 2)  // version needed
      directory.appendLE(flags, size: 2)
      directory.appendLE(0, size: 2)
      directory.appendLE(0, size: 2)
      directory.appendLE(UInt64(dosDate), size: 2)
      directory.appendLE(crc, size: 4)
      directory.appendLE(UInt64(data.count), size: 4)
      directory.appendLE(UInt64(data.count), size: 4)
      directory.appendLE(UInt64(name.count), size: 2)
      directory.appendLE(0, size: 2)  // extra length
      directory.appendLE(0, size: 2)  // comment length
      directory.appendLE(0, size: 2)  // disk number
      directory.appendLE(0, size: 2)  // internal attributes
      directory.appendLE(0, size: 4)  // external attributes
      directory.appendLE(UInt64(offset), size: 4)
      directory.append(contentsOf: name)
    }
    let directoryOffset = out.count
    precondition(directoryOffset + directory.count < 0xFFFF_FFFF, "archive would need zip64")
    out.append(contentsOf: directory)
    out.appendLE(UInt64(endSignature), size: 4)
    out.appendLE(0, size: 2)  // this disk
    out.appendLE(0, size: 2)  // disk with the directory
    out.appendLE(UInt64(arrays.count), size: 2)
    out.appendLE(UInt64(arrays.count), size: 2)
    out.appendLE(UInt64(directory.count), size: 4)
    out.appendLE(UInt64(directoryOffset), size: 4)
    out.appendLE(0, size: 2)  // comment length
    return out
  }
}
