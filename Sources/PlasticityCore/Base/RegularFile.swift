import Foundation

/// What a path given as a file holds, found without opening it (opening a FIFO would block
/// and a directory would be read as garbage): the callers turn each case into their own error.
package enum RegularFile {
    package enum Problem: Error {
        case missing
        /// `stat` failed otherwise, with the system's reason.
        case unreadable(String)
        /// A directory, FIFO, socket or device.
        case notRegular

        /// Why the path cannot be read as a file, as the system says it.
        package var reason: String {
            switch self {
            case .missing: return String(cString: strerror(ENOENT))
            case .unreadable(let reason): return reason
            case .notRegular: return "not a regular file"
            }
        }
    }

    /// The size in bytes of the regular file at `path`, or why it is not one.
    package static func size(at path: String) -> Result<Int, Problem> {
        var status = stat()
        guard stat(path, &status) == 0 else {
            return .failure(errno == ENOENT ? .missing : .unreadable(String(cString: strerror(errno))))
        }
        guard status.st_mode & S_IFMT == S_IFREG else { return .failure(.notRegular) }
        return .success(Int(status.st_size))
    }
}
