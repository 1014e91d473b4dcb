import Foundation
import PlasticityBase

/// A one-dimensional array kept uncompressed in an `.npz` file (`numpy.savez`), read a range
/// of elements at a time from the file instead of held in memory.
public struct StoredNumPyArray {
    public let file: RandomAccessFile
    public let name: String
    public let count: Int
    public let dataType: NumPyArray.DataType
    private let member: ZipDirectory.Member
    private let dataOffset: Int

    /// The array `name` of the archive, or nil if the archive compresses it (it must then be
    /// extracted whole). A header that disagrees with the member's size is an error.
    public init?(file: RandomAccessFile, directory: ZipDirectory, name: String) throws {
        guard let member = directory.members[name + ".npy"] ?? directory.members[name] else {
            throw PlasticityError.missingArray(name: name, file: file.path)
        }
        guard member.isStored else { return nil }
        let prefix = try file.bytes(at: member.dataOffset, count: Swift.min(member.size, NumPyArray.Header.longest))
        let header = try NumPyArray.Header(prefix: Data(prefix), name: name)
        guard header.shape.count == 1 else { throw PlasticityError.shapeMismatch(name: name, expected: "one dimension", found: "\(header.shape)") }
        guard header.length + header.byteCount == member.size else {
            throw PlasticityError.malformedArray(name: name, reason: "in \(file.path) holds \(member.size - header.length) bytes of data, "
                                                 + "but shape \(header.shape) of \(header.dataType) needs \(header.byteCount)")
        }
        self.file = file
        self.name = name
        self.member = member
        count = header.shape[0]
        dataType = header.dataType
        dataOffset = member.dataOffset + header.length
    }

    /// Elements `range`, converted to Double.
    public func doubles(_ range: Range<Int>) throws -> [Double] {
        var bytes: [UInt8] = []
        return try withElements(range, scratch: &bytes) { NumPyArray.doubles($0, dataType) }
    }

    /// Calls `body` with elements `range` as stored (`dataType`, little-endian), read into
    /// `scratch`, which grows as needed: a caller reading many ranges reuses one buffer.
    public func withElements<R>(_ range: Range<Int>, scratch: inout [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw PlasticityError.malformedArray(name: name, reason: "in \(file.path) has \(count) elements, asked for \(range)")
        }
        let byteCount = range.count * dataType.size
        if scratch.count < byteCount { scratch = [UInt8](repeating: 0, count: byteCount) }
        return try scratch.withUnsafeMutableBytes { buffer in
            let bytes = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<byteCount])
            try file.read(at: dataOffset + range.lowerBound * dataType.size, into: bytes)
            return try body(UnsafeRawBufferPointer(bytes))
        }
    }

    /// Reads the whole member once, `chunk` elements at a time, handing each chunk (as stored,
    /// `dataType`) to `body`, and checks the member against its CRC-32: a damaged
    /// file is refused before it is trained on.
    public func scan(chunk: Int = 1 << 20, _ body: (_ elements: UnsafeRawBufferPointer) throws -> Void) throws {
        var checksum = try file.bytes(at: member.dataOffset, count: dataOffset - member.dataOffset).withUnsafeBytes { ZipChecksum.update(0, with: $0) }
        var scratch: [UInt8] = []
        for start in stride(from: 0, to: count, by: chunk) {
            try withElements(start..<Swift.min(count, start + chunk), scratch: &scratch) { raw in
                checksum = ZipChecksum.update(checksum, with: raw)
                try body(raw)
            }
        }
        guard checksum == member.checksum else {
            throw PlasticityError.malformedArray(name: name, reason: "in \(file.path) fails its CRC-32 check: the file is damaged")
        }
    }
}
