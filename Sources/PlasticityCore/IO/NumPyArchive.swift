import Foundation
import ZIPFoundation
import PlasticityBase

/// `.npz` files: a zip archive of `.npy` arrays, one per name (as `numpy.savez` writes them).
public enum NumPyArchive {
    /// Reads every array of an `.npz` file.
    public static func read(_ url: URL) throws -> [String: NumPyArray] {
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw PlasticityError.malformedArray(name: url.path, reason: "not a readable .npz (zip) file: \(error)")
        }
        var arrays: [String: NumPyArray] = [:]
        for entry in archive where entry.type == .file {
            var data = Data()
            do {
                _ = try archive.extract(entry) { data.append($0) }
            } catch {
                throw PlasticityError.malformedArray(name: entry.path, reason: "cannot be extracted from \(url.path): \(error)")
            }
            let name = entry.path.hasSuffix(".npy") ? String(entry.path.dropLast(4)) : entry.path
            arrays[name] = try NumPyArray(npy: data, name: name)
        }
        return arrays
    }

    /// Writes arrays to an `.npz` file atomically: a temporary file in the same directory,
    /// then a rename, so an interrupted write never leaves a damaged file behind.
    public static func write(_ arrays: [String: NumPyArray], to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        defer { try? FileManager.default.removeItem(at: temporary) }
        let archive = try Archive(url: temporary, accessMode: .create)
        for name in arrays.keys.sorted() {
            let data = arrays[name]!.encoded()
            try archive.addEntry(with: "\(name).npy", type: .file, uncompressedSize: Int64(data.count), compressionMethod: .none) { position, size in
                data.subdata(in: Int(position)..<(Int(position) + size))
            }
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw PlasticityError.malformedArray(name: url.path, reason: "cannot be written: \(String(cString: strerror(errno)))")
        }
    }
}
