import PlasticityBase

/// Where each member of a ZIP archive (an `.npz`) lies in the file, read from the central
/// directory (ZIP64 included, as NumPy writes it) and each member's local header. Members
/// stored without compression — `numpy.savez`'s default — can then be read in place, a range
/// at a time, instead of extracted whole (`ZIPFoundation` extracts only whole members).
public struct ZipDirectory {
    public struct Member {
        public let name: String
        /// Where the member's bytes start in the file.
        public let dataOffset: Int
        public let size: Int
        public let checksum: UInt32
        /// Stored as is (method 0), so that `dataOffset..<dataOffset + size` are its bytes.
        public let isStored: Bool
    }

    public let members: [String: Member]

    /// The directory of `file`; a damaged directory is an error naming the file.
    public init(file: RandomAccessFile) throws {
        func fail(_ reason: String) -> PlasticityError { .malformedArray(name: file.path, reason: "is not a readable .npz (zip) file: \(reason)") }
        // The end-of-directory record: 22 bytes and a comment of at most 65535, at the end.
        let tailLength = Swift.min(file.size, 22 + 65535)
        let tail = try file.bytes(at: file.size - tailLength, count: tailLength)
        guard tailLength >= 22, let end = stride(from: tailLength - 22, through: 0, by: -1).first(where: { Self.uint32(tail, $0) == 0x0605_4b50 }) else {
            throw fail("no end-of-directory record")
        }
        var entries = Int(Self.uint16(tail, end + 10)), directorySize = Int(Self.uint32(tail, end + 12)), directoryOffset = Int(Self.uint32(tail, end + 16))
        if entries == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: a locator just before the record gives the ZIP64 end record's offset.
            let locatorStart = file.size - tailLength + end - 20
            guard locatorStart >= 0 else { throw fail("a ZIP64 archive without its locator") }
            let locator = try file.bytes(at: locatorStart, count: 20)
            guard Self.uint32(locator, 0) == 0x0706_4b50 else { throw fail("a ZIP64 archive without its locator") }
            let recordOffset = try Self.size(Self.uint64(locator, 8), limit: file.size - 56, fail)
            let record = try file.bytes(at: recordOffset, count: 56)
            guard Self.uint32(record, 0) == 0x0606_4b50 else { throw fail("a damaged ZIP64 end record") }
            entries = try Self.size(Self.uint64(record, 32), limit: file.size / 46, fail)
            directorySize = try Self.size(Self.uint64(record, 40), limit: file.size, fail)
            directoryOffset = try Self.size(Self.uint64(record, 48), limit: file.size, fail)
        }
        guard directoryOffset <= file.size - directorySize, entries <= directorySize / 46 else { throw fail("its directory lies outside the file") }
        let directory = try file.bytes(at: directoryOffset, count: directorySize)
        var members: [String: Member] = [:], position = 0
        for _ in 0..<entries {
            guard position + 46 <= directory.count, Self.uint32(directory, position) == 0x0201_4b50 else { throw fail("a damaged directory entry") }
            let method = Self.uint16(directory, position + 10), checksum = Self.uint32(directory, position + 16)
            let nameLength = Int(Self.uint16(directory, position + 28)), extraLength = Int(Self.uint16(directory, position + 30))
            let commentLength = Int(Self.uint16(directory, position + 32))
            guard position + 46 + nameLength + extraLength + commentLength <= directory.count else { throw fail("a damaged directory entry") }
            var size = UInt64(Self.uint32(directory, position + 24)), compressed = UInt64(Self.uint32(directory, position + 20))
            var headerOffset = UInt64(Self.uint32(directory, position + 42))
            // ZIP64 extra field: the 64-bit values of the fields saturated above, in this order.
            var extra = position + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = Self.uint16(directory, extra), length = Int(Self.uint16(directory, extra + 2))
                guard extra + 4 + length <= extraEnd else { break }
                if id == 0x0001 {
                    var field = extra + 4
                    let fieldEnd = field + length
                    func next(_ value: inout UInt64) {
                        guard value == 0xFFFF_FFFF, field + 8 <= fieldEnd else { return }
                        value = Self.uint64(directory, field)
                        field += 8
                    }
                    next(&size)
                    next(&compressed)
                    next(&headerOffset)
                }
                extra += 4 + length
            }
            let name = String(decoding: directory[(position + 46)..<(position + 46 + nameLength)], as: UTF8.self)
            let header = try file.bytes(at: try Self.size(headerOffset, limit: file.size - 30, fail), count: 30)
            guard Self.uint32(header, 0) == 0x0403_4b50 else { throw fail("member '\(name)' has a damaged local header") }
            // ZIP keeps each name twice and checks neither: a name changed in one place would
            // read as another array (or none).
            let localNameLength = Int(Self.uint16(header, 26))
            guard localNameLength == nameLength,
                  try file.bytes(at: Int(headerOffset) + 30, count: nameLength) == Array(directory[(position + 46)..<(position + 46 + nameLength)]) else {
                throw fail("member '\(name)' has another name in its local header: the file is damaged")
            }
            guard members[name] == nil else { throw fail("member '\(name)' appears twice") }
            let dataOffset = Int(headerOffset) + 30 + Int(Self.uint16(header, 26)) + Int(Self.uint16(header, 28))
            let stored = try Self.size(method == 0 ? size : compressed, limit: file.size, fail)
            guard dataOffset <= file.size - stored else { throw fail("member '\(name)' runs past the end of the file (truncated?)") }
            members[name] = Member(name: name, dataOffset: dataOffset, size: try Self.size(size, limit: Int.max, fail), checksum: checksum, isStored: method == 0)
            position += 46 + nameLength + extraLength + commentLength
        }
        // The entry count and the directory's size are stored apart: a damaged count would
        // silently drop members.
        guard position == directory.count else { throw fail("its directory holds more than the \(entries) entries it declares: the file is damaged") }
        self.members = members
    }

    private static func size(_ value: UInt64, limit: Int, _ fail: (String) -> PlasticityError) throws -> Int {
        guard limit >= 0, value <= UInt64(limit) else { throw fail("a size or offset (\(value)) beyond the file") }
        return Int(value)
    }

    static func uint16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    static func uint32(_ bytes: [UInt8], _ at: Int) -> UInt32 { UInt32(uint16(bytes, at)) | UInt32(uint16(bytes, at + 2)) << 16 }
    static func uint64(_ bytes: [UInt8], _ at: Int) -> UInt64 { UInt64(uint32(bytes, at)) | UInt64(uint32(bytes, at + 4)) << 32 }
}
