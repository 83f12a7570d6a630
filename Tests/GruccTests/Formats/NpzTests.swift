// Tests for the .npz (ZIP) reader and writer: numpy-written archives (stored and
// deflated, with numpy's ZIP64 local headers), ZIP64 central records, and corrupt archives.
import Testing

@testable import GruccCore

/// Builds ZIP archives member by member, with knobs for the corruptions the tests need.
struct ZipBuilder {
  struct Member {
    var name: String
    var data: [UInt8]
    var method: UInt64 = 0
    var payload: [UInt8]?  // the bytes stored in the archive, if not `data` itself
    var crc: UInt32?
    var declaredSize: Int?
    var flags: UInt64 = 0
    var localName: String?
    var zip64Central = false
    var zip64ExtraMissing = false
    var nameBytes: [UInt8]?
  }

  var members: [Member] = []
  var zip64End = false
  var comment: [UInt8] = []

  func build() -> [UInt8] {
    var out: [UInt8] = []
    var directory: [UInt8] = []
    for m in members {
      let payload = m.payload ?? m.data
      let name = m.nameBytes ?? Array(m.name.utf8)
      let localName = m.localName.map { Array($0.utf8) } ?? name
      let crc = UInt64(m.crc ?? CRC32.checksum(m.data))
      let size = UInt64(m.declaredSize ?? m.data.count)
      let offset = out.count
      out.appendLE(UInt64(Npz.localHeaderSignature), size: 4)
      out.appendLE(20, size: 2)
      out.appendLE(m.flags, size: 2)
      out.appendLE(m.method, size: 2)
      out.appendLE(0, size: 2)
      out.appendLE(0x21, size: 2)
      out.appendLE(crc, size: 4)
      out.appendLE(UInt64(payload.count), size: 4)
      out.appendLE(size, size: 4)
      out.appendLE(UInt64(localName.count), size: 2)
      out.appendLE(0, size: 2)
      out += localName + payload

      var extra: [UInt8] = []
      if m.zip64Central && !m.zip64ExtraMissing {
        extra.appendLE(0x5455, size: 2)  // an unrelated extra field first, which must be skipped
        extra.appendLE(5, size: 2)
        extra += [1, 0, 0, 0, 0]
        extra.appendLE(1, size: 2)
        extra.appendLE(24, size: 2)
        extra.appendLE(size, size: 8)
        extra.appendLE(UInt64(payload.count), size: 8)
        extra.appendLE(UInt64(offset), size: 8)
      }
      let marker: UInt64 = 0xFFFF_FFFF
      directory.appendLE(UInt64(Npz.centralHeaderSignature), size: 4)
      directory.appendLE(45, size: 2)
      directory.appendLE(45, size: 2)
      directory.appendLE(m.flags, size: 2)
      directory.appendLE(m.method, size: 2)
      directory.appendLE(0, size: 2)
      directory.appendLE(0x21, size: 2)
      directory.appendLE(crc, size: 4)
      directory.appendLE(m.zip64Central ? marker : UInt64(payload.count), size: 4)
      directory.appendLE(m.zip64Central ? marker : size, size: 4)
      directory.appendLE(UInt64(name.count), size: 2)
      directory.appendLE(UInt64(extra.count), size: 2)
      directory.appendLE(0, size: 2)
      directory.appendLE(0, size: 2)
      directory.appendLE(0, size: 2)
      directory.appendLE(0, size: 4)
      directory.appendLE(m.zip64Central ? marker : UInt64(offset), size: 4)
      directory += name + extra
    }
    let directoryOffset = out.count
    out += directory
    if zip64End {
      let recordOffset = out.count
      out.appendLE(UInt64(Npz.zip64EndSignature), size: 4)
      out.appendLE(44, size: 8)
      out.appendLE(45, size: 2)
      out.appendLE(45, size: 2)
      out.appendLE(0, size: 4)
      out.appendLE(0, size: 4)
      out.appendLE(UInt64(members.count), size: 8)
      out.appendLE(UInt64(members.count), size: 8)
      out.appendLE(UInt64(directory.count), size: 8)
      out.appendLE(UInt64(directoryOffset), size: 8)
      out.appendLE(UInt64(Npz.zip64LocatorSignature), size: 4)
      out.appendLE(0, size: 4)
      out.appendLE(UInt64(recordOffset), size: 8)
      out.appendLE(1, size: 4)
    }
    out.appendLE(UInt64(Npz.endSignature), size: 4)
    out.appendLE(0, size: 2)
    out.appendLE(0, size: 2)
    out.appendLE(zip64End ? 0xFFFF : UInt64(members.count), size: 2)
    out.appendLE(zip64End ? 0xFFFF : UInt64(members.count), size: 2)
    out.appendLE(zip64End ? 0xFFFF_FFFF : UInt64(directory.count), size: 4)
    out.appendLE(zip64End ? 0xFFFF_FFFF : UInt64(directoryOffset), size: 4)
    out.appendLE(UInt64(comment.count), size: 2)
    return out + comment
  }
}

@Suite struct NpzTests {
  static let npy = Npy.write(values: [1, 2, 3], shape: [3], dtype: .f64)

  /// Raw DEFLATE stream of one stored block, so tests can build "compressed" members.
  func deflateStored(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x01]
    out.appendLE(UInt64(data.count), size: 2)
    out.appendLE(UInt64(~UInt16(data.count)), size: 2)
    return out + data
  }

  func single(_ edit: (inout ZipBuilder.Member) -> Void) -> [UInt8] {
    var m = ZipBuilder.Member(name: "a.npy", data: Self.npy)
    edit(&m)
    return ZipBuilder(members: [m]).build()
  }

  @Test(arguments: ["stored.npz", "compressed.npz"])
  func readsNumpyArchives(name: String) throws {
    let expected = try Fixtures.expected(file: name)
    let arrays = try Npz.read(try Fixtures.bytes(name))
    #expect(arrays.map(\.name) == expected.map(\.array))
    for (a, e) in zip(arrays, expected) {
      #expect(a.array.dtype == e.dtype)
      #expect(a.array.shape == e.shape)
      #expect(sameValues(a.array.values, e.values))
    }
  }

  @Test func numpyLocalHeadersUseZip64() throws {
    // numpy writes local headers with 0xFFFFFFFF sizes and a ZIP64 extra; the reader relies
    // on the central directory instead, which this fixture must actually exercise.
    let bytes = try Fixtures.bytes("stored.npz")
    #expect(bytes.le32(at: 18) == 0xFFFF_FFFF)
    #expect(try Npz.centralDirectory(bytes).map(\.name) == ["w.npy", "b.npy", "n.npy"])
  }

  @Test func writeRoundTripsAndIsDeterministic() throws {
    let arrays: [(name: String, values: [Double], shape: [Int], dtype: NpyDType)] = [
      ("weight", [1, 2, 3, 4, 5, 6], [2, 3], .f32),
      ("bias", [0.1, -0.2], [2], .f64),
      ("steps", [7], [], .i64),
      ("ids", [], [0], .i32),
      ("ünï", [0.5], [1], .f16),
    ]
    let bytes = Npz.write(arrays)
    #expect(bytes == Npz.write(arrays))
    let back = try Npz.read(bytes)
    #expect(back.map(\.name) == arrays.map(\.name))
    for (b, a) in zip(back, arrays) {
      #expect(b.array == NpyArray(dtype: a.dtype.rawValue, shape: a.shape, values: a.dtype == .f32 ? a.values.map { Double(Float($0)) } : a.values))
    }
    #expect(Array(bytes[0..<4]) == [0x50, 0x4B, 0x03, 0x04])
    #expect(bytes.le16(at: 12) == 0x21)  // 1980-01-01
    #expect(try Npz.read(Npz.write([])).isEmpty)
  }

  @Test func readsZip64CentralRecordsAndComments() throws {
    var builder = ZipBuilder()
    builder.members = [
      .init(name: "a.npy", data: Self.npy, zip64Central: true),
      .init(name: "b.npy", data: Self.npy, method: 8, payload: deflateStored(Self.npy), zip64Central: true),
    ]
    builder.zip64End = true
    builder.comment = Array("PK\u{5}\u{6} looks like a signature".utf8)
    let arrays = try Npz.read(builder.build())
    #expect(arrays.map(\.name) == ["a", "b"])
    #expect(arrays[1].array.values == [1, 2, 3])
  }

  @Test func rejectsBadArchives() {
    expectError("file has 10 bytes, too short for a zip archive") { _ = try Npz.read(Array(repeating: 0, count: 10)) }
    expectError("not a zip archive: no end of central directory record") { _ = try Npz.read(Array(repeating: 0, count: 100)) }
    expectError("not a zip archive") { _ = try Npz.read(Self.npy) }

    let good = single { _ in }
    let end = good.count - 22
    var badOffset = good
    badOffset[end + 16] = 0xF0
    expectError("central directory (offset", "does not fit before byte") { _ = try Npz.read(badOffset) }
    var badCount = good
    badCount[end + 10] = 2
    expectError("central directory claims 2 members but has only 51 bytes") { _ = try Npz.read(badCount) }
    var multiDisk = good
    multiDisk[end + 4] = 1
    expectError("multi-disk") { _ = try Npz.read(multiDisk) }
    var badCentral = good
    badCentral[end - 51] = 0
    expectError("central directory record 0 at byte") { _ = try Npz.read(badCentral) }
    var badLocator = good
    badLocator.replaceSubrange((end - 20)..<(end - 16), with: [0x50, 0x4B, 0x06, 0x07])
    expectError("zip64 end of central directory locator points to byte") { _ = try Npz.read(badLocator) }
  }

  @Test func rejectsBadMembers() {
    expectError("member 'a.npy' is corrupt: CRC-32 is 0x", "but the archive records 0x12345678") {
      _ = try Npz.read(single { $0.crc = 0x1234_5678 })
    }
    var flipped = single { _ in }
    flipped[30 + 5 + 128] ^= 1  // first data byte of the .npy payload
    expectError("member 'a.npy' is corrupt: CRC-32") { _ = try Npz.read(flipped) }
    expectError("member 'a.txt' is not a .npy file") { _ = try Npz.read(single { $0.name = "a.txt" }) }
    expectError("member 'a.npy' is encrypted") { _ = try Npz.read(single { $0.flags = 1 }) }
    expectError("member 'a.npy' uses unsupported compression method 12") { _ = try Npz.read(single { $0.method = 12 }) }
    expectError("member 'a.npy' has a different name in its local header") { _ = try Npz.read(single { $0.localName = "b.npy" }) }
    expectError("member 'a.npy' is stored uncompressed but its sizes differ") { _ = try Npz.read(single { $0.declaredSize = 5 }) }
    expectError("member 'a.npy': not a .npy file") { _ = try Npz.read(single { $0.data = Array("hello, this is not numpy data".utf8) }) }
    expectError("member 'a.npy': truncated") {
      _ = try Npz.read(single { $0.data = Npy.write(values: [1, 2], shape: [2], dtype: .f64).dropLast(8) })
    }
    expectError("not valid UTF-8") { _ = try Npz.read(single { $0.nameBytes = [0xFF, 0x2E, 0x6E, 0x70, 0x79] }) }
    expectError("member 'a.npy' needs a zip64 extra field but has no valid one") {
      _ = try Npz.read(single { $0.zip64Central = true; $0.zip64ExtraMissing = true })
    }
    expectError("archive has more than one member 'a.npy'") {
      _ = try Npz.read(ZipBuilder(members: [.init(name: "a.npy", data: Self.npy), .init(name: "a.npy", data: Self.npy)]).build())
    }
    let stored = deflateStored(Self.npy)
    expectError("member 'a.npy' inflates to 152 bytes but the archive declares 200") {
      _ = try Npz.read(single { $0.method = 8; $0.payload = stored; $0.declaredSize = 200 })
    }
    // 140 bytes hold the 128-byte .npy header (read first) but not the data after it.
    expectError("member 'a.npy': deflate: data inflates to more than the declared 140 bytes") {
      _ = try Npz.read(single { $0.method = 8; $0.payload = stored; $0.declaredSize = 140 })
    }
    expectError("member 'a.npy': deflate: invalid block type 3") {
      _ = try Npz.read(single { $0.method = 8; $0.payload = [0x07] })
    }
    // Local header offset pointing past the end of the file.
    var past = single { _ in }
    past[past.count - 22 - 51 + 42] = 0xFF
    expectError("member 'a.npy' has no local header at byte 255") { _ = try Npz.read(past) }
  }

  @Test(arguments: ["stored.npz", "compressed.npz"])
  func fuzzNeverCrashes(name: String) throws {
    let rejected = fuzz(try Fixtures.bytes(name), randomRounds: 1000) { _ = try Npz.read($0) }
    #expect(rejected > 0)
  }
}
