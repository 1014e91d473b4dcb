import Foundation
import ZIPFoundation
import PlasticityBase

/// `.npz` files: a zip archive of `.npy` arrays, one per name (as `numpy.savez` writes them).
public enum NumPyArchive {
    /// Reads every array of an `.npz` file: a regular file (a directory or a FIFO is refused at
    /// once), each member no longer than its header declares and matching its CRC-32.
    public static func read(_ url: URL) throws -> [String: NumPyArray] {
        // Its structure checked by our own reader first (every entry, names in both places).
        let directory = try ZipDirectory(file: RandomAccessFile(path: url.path))
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw PlasticityError.malformedArray(name: url.path, reason: "not a readable .npz (zip) file: \(error)")
        }
        var arrays: [String: NumPyArray] = [:]
        for entry in archive where entry.type == .file {
            var data = Data()
            let declared = entry.uncompressedSize
            let checksum: CRC32
            do {
                checksum = try archive.extract(entry) { chunk in
                    // A member may not inflate past the size its header declares.
                    guard UInt64(data.count + chunk.count) <= declared else { throw MemberError.longerThanDeclared(declared) }
                    data.append(chunk)
                }
            } catch {
                throw PlasticityError.malformedArray(name: entry.path, reason: "cannot be extracted from \(url.path): \(error)")
            }
            guard checksum == entry.checksum else {
                throw PlasticityError.malformedArray(name: entry.path, reason: "in \(url.path) fails its CRC-32 check: the file is damaged")
            }
            let name = entry.path.hasSuffix(".npy") ? String(entry.path.dropLast(4)) : entry.path
            arrays[name] = try NumPyArray(npy: data, name: name)
        }
        guard arrays.count == directory.members.count else {
            throw PlasticityError.malformedArray(name: url.path, reason: "lists \(directory.members.count) members but \(arrays.count) could be read: the file is damaged")
        }
        return arrays
    }

    private enum MemberError: Error, CustomStringConvertible {
        case longerThanDeclared(UInt64)
        var description: String {
            switch self {
            case .longerThanDeclared(let size): return "the member inflates past the \(size) bytes its header declares"
            }
        }
    }

    /// Writes arrays to an `.npz` file atomically: a temporary file in the same directory,
    /// then a rename, so an interrupted write never leaves a damaged file behind. Members are
    /// stored as they are (`numpy.savez`) unless `compressed` (`numpy.savez_compressed`).
    public static func write(_ arrays: [String: NumPyArray], to url: URL, compressed: Bool = false) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        defer { try? FileManager.default.removeItem(at: temporary) }
        let archive = try Archive(url: temporary, accessMode: .create)
        for name in arrays.keys.sorted() {
            let data = arrays[name]!.encoded()
            try archive.addEntry(with: "\(name).npy", type: .file, uncompressedSize: Int64(data.count), compressionMethod: compressed ? .deflate : .none) { position, size in
                data.subdata(in: Int(position)..<(Int(position) + size))
            }
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw PlasticityError.malformedArray(name: url.path, reason: "cannot be written: \(String(cString: strerror(errno)))")
        }
    }
}
