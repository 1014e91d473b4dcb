import Foundation

/// An optional system library opened at run time rather than linked (libhdf5, OpenBLAS), so
/// that the build and a machine without it need nothing, and a user who installs it later
/// needs no rebuild.
package struct SystemLibrary {
    /// The name or path that loaded.
    package let name: String
    private let handle: UnsafeMutableRawPointer

    /// The first of `candidates` that loads, or the loader's message for the last that did not.
    /// - Parameter global: make its symbols visible to libraries it loads itself (Open MPI's
    ///   components resolve libmpi's symbols that way).
    package static func open(_ candidates: [String], global: Bool = false) -> Result<SystemLibrary, LoadFailure> {
        var reason = "nothing to try"
        for candidate in candidates {
            if let handle = dlopen(candidate, RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL)) {
                return .success(SystemLibrary(name: candidate, handle: handle))
            }
            reason = dlerror().map { String(cString: $0) } ?? candidate
        }
        return .failure(LoadFailure(reason: reason))
    }

    package struct LoadFailure: Error {
        package let reason: String
    }

    /// The function `symbol` as the C function type `F`, if the library has it.
    package func function<F>(_ symbol: String, as type: F.Type) -> F? {
        address(of: symbol).map { unsafeBitCast($0, to: F.self) }
    }

    /// The address of `symbol` (a function or a global variable), if the library has it.
    package func address(of symbol: String) -> UnsafeMutableRawPointer? {
        dlsym(handle, symbol)
    }
}
