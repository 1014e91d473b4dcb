import ArgumentParser
import Foundation

/// A file a command will write, checked before any work: so that a run does not train for an
/// hour and then find it cannot save.
enum OutputFile {
    /// `path` (given as `option`) can be written: an existing regular file that is writable,
    /// or a new file in an existing, writable directory.
    static func checkWritable(_ path: String, option: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { throw ValidationError("\(option) \(path) is a directory, not a file") }
            guard access(path, W_OK) == 0 else { throw ValidationError("\(option) \(path) cannot be written (\(String(cString: strerror(errno))))") }
            return
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(option) \(path): the directory \(directory) does not exist")
        }
        guard access(directory, W_OK) == 0 else {
            throw ValidationError("\(option) \(path): the directory \(directory) cannot be written (\(String(cString: strerror(errno))))")
        }
    }
}
