import Foundation
import PlasticityBase

/// A regular file opened for reads at any offset (`pread`), so several readers share it and a
/// data set can be read a batch at a time instead of held in memory.
public final class RandomAccessFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    private let descriptor: Int32

    /// Opens `path`, refusing at once what is not a regular file (opening a FIFO would block).
    public init(path: String) throws {
        size = try Self.regularFileSize(path)
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw PlasticityError.malformedArray(name: path, reason: "cannot be opened: \(String(cString: strerror(errno)))")
        }
        self.path = path
    }

    deinit { close(descriptor) }

    /// The size of the data file at `path`, or an error naming it if it is missing, unreadable
    /// or not a regular file (a directory would be read as garbage, a FIFO would block).
    public static func regularFileSize(_ path: String) throws -> Int {
        switch RegularFile.size(at: path) {
        case .success(let size): return size
        case .failure(.notRegular): throw PlasticityError.malformedArray(name: path, reason: "is not a regular file (a directory, FIFO or device)")
        case .failure(let problem): throw PlasticityError.malformedArray(name: path, reason: "cannot be read: \(problem.reason)")
        }
    }

    /// Fills `buffer` with the bytes at `offset`; a range past the end (a file cut short since
    /// it was checked) is an error naming the file.
    public func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard offset >= 0, offset <= size, buffer.count <= size - offset else {
            throw PlasticityError.malformedArray(name: path, reason: "has no bytes \(offset)..<\(offset + buffer.count) (it is \(size) bytes)")
        }
        var done = 0
        while done < buffer.count {
            let count = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                let reason = count == 0 ? "ends before byte \(offset + buffer.count) (truncated since it was opened?)" : String(cString: strerror(errno))
                throw PlasticityError.malformedArray(name: path, reason: "cannot be read: \(reason)")
            }
            done += count
        }
    }

    /// `count` bytes at `offset`.
    public func bytes(at offset: Int, count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            try read(at: offset, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }
}
