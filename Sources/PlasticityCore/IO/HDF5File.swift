import Foundation
#if canImport(Glibc)
import Glibc
import PlasticityBase
#endif

/// Read-only access to the datasets of an HDF5 file through the system's libhdf5 (1.10 or
/// later), loaded the first time a file is opened. The library is optional: nothing else
/// needs it, and without it opening a file fails with how to install it or convert the file
/// to `.npz`. Loading at run time rather than linking keeps the build free of it, so a
/// user who installs it later needs no rebuild.
///
/// Debian's libhdf5 (the "serial" build) is not thread-safe, so every call into it, from any
/// file and any thread, is made under one lock.
public final class HDF5File: @unchecked Sendable {
    public let path: String
    private let library: HDF5Library
    private let file: HDF5Library.ID
    /// The most bytes a dataset of this file may decode to: DEFLATE expands at most 1032-fold,
    /// so a dataset that declares more (a sparse one, a damaged header) is refused before
    /// anything is allocated for it.
    private let decodedBound: Int
    static let maximumExpansion = 1032
    private static let lock = NSRecursiveLock()

    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw PlasticityError.malformedHDF5(path: path, reason: "does not exist") }
        let size = try RandomAccessFile.regularFileSize(path)
        decodedBound = size.multipliedReportingOverflow(by: Self.maximumExpansion).partialValue.addingReportingOverflow(1 << 20).partialValue
        let library = try HDF5Library.shared.get()
        let file = Self.serialized(library) { path.withCString { library.openFile($0, 0, 0) } }   // H5F_ACC_RDONLY, H5P_DEFAULT
        guard file >= 0 else {
            throw PlasticityError.malformedHDF5(path: path, reason: "is not a readable HDF5 file (truncated, or not HDF5 at all)")
        }
        self.path = path
        self.library = library
        self.file = file
    }

    deinit { _ = serialized { library.closeFile(file) } }

    /// Runs `body` under the lock, then empties libhdf5's error stack: every failure is
    /// reported by this class with its cause, and error records left behind by refused files
    /// pile up until the library's shutdown at exit.
    private static func serialized<R>(_ library: HDF5Library, _ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer {
            _ = library.clearErrors(0)
            lock.unlock()
        }
        return try body()
    }

    private func serialized<R>(_ body: () throws -> R) rethrows -> R { try Self.serialized(library, body) }

    /// Whether `name` (a path such as "spikes/times") names an object in the file.
    public func contains(_ name: String) -> Bool {
        serialized { linksExist(name) }
    }

    private func linksExist(_ name: String) -> Bool {
        var prefix = ""
        for component in name.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + component
            guard prefix.withCString({ library.linkExists(file, $0, 0) }) > 0 else { return false }
        }
        return true
    }

    /// A one-dimensional integer dataset.
    public func integers(_ name: String) throws -> [Int] {
        try serialized { try readFlat(name, memoryType: library.nativeInt64, as: Int64.self, requireInteger: true) }.map(Int.init)
    }

    /// A one-dimensional dataset of variable-length numeric vectors (SHD's `spikes/times`,
    /// `spikes/units`): the vectors concatenated, and each one's length.
    /// - Parameter floatingPoint: refuse integer vectors (SHD's times are seconds; integer
    ///   ticks read as seconds would put every spike outside the window).
    public func raggedDoubles(_ name: String, floatingPoint: Bool = false) throws -> (values: [Double], lengths: [Int]) {
        try serialized { try readRagged(name, base: library.nativeDouble, as: Double.self, requireInteger: false, requireFloat: floatingPoint) }
    }

    /// Like `raggedDoubles`, for vectors of integers.
    public func raggedIntegers(_ name: String) throws -> (values: [Int], lengths: [Int]) {
        let (values, lengths) = try serialized { try readRagged(name, base: library.nativeInt64, as: Int64.self, requireInteger: true) }
        return (values.map(Int.init), lengths)
    }

    private struct Dataset {
        let id: HDF5Library.ID
        let count: Int
        let typeClass: Int32
        let elementClass: Int32
    }

    /// Opens `name`, checks it is one-dimensional, and hands it to `body`.
    private func withDataset<R>(_ name: String, _ body: (Dataset) throws -> R) throws -> R {
        guard linksExist(name) else { throw PlasticityError.malformedHDF5(path: path, reason: "has no dataset '\(name)'") }
        let dataset = name.withCString { library.openDataset(file, $0, 0) }
        guard dataset >= 0 else { throw PlasticityError.malformedHDF5(path: path, reason: "'\(name)' is not a dataset") }
        defer { _ = library.closeDataset(dataset) }
        let space = library.datasetSpace(dataset)
        defer { _ = library.closeSpace(space) }
        guard library.rank(space) == 1 else {
            throw PlasticityError.malformedHDF5(path: path, reason: "dataset '\(name)' has \(library.rank(space)) dimensions, expected 1")
        }
        var count: UInt64 = 0
        _ = library.dimensions(space, &count, nil)
        guard count <= UInt64(Int.max) else {
            throw PlasticityError.malformedHDF5(path: path, reason: "dataset '\(name)' declares \(count) entries; it is damaged")
        }
        let type = library.datasetType(dataset)
        defer { _ = library.closeType(type) }
        let typeClass = library.typeClass(type)
        var elementClass = typeClass
        if typeClass == HDF5Library.variableLengthClass {
            let base = library.superType(type)
            elementClass = library.typeClass(base)
            _ = library.closeType(base)
        }
        return try body(Dataset(id: dataset, count: Int(count), typeClass: typeClass, elementClass: elementClass))
    }

    private func checkNumeric(_ name: String, _ elementClass: Int32, requireInteger: Bool, requireFloat: Bool = false) throws {
        let numeric = (!requireFloat && elementClass == HDF5Library.integerClass) || (!requireInteger && elementClass == HDF5Library.floatClass)
        guard numeric else {
            let expected = requireInteger ? "integers" : requireFloat ? "floating-point numbers (seconds; convert times in ticks or milliseconds to seconds)" : "numbers"
            throw PlasticityError.malformedHDF5(path: path, reason: "dataset '\(name)' holds \(HDF5Library.className(elementClass)), expected \(expected)")
        }
    }

    /// Refuses a dataset whose `count` elements of `stride` bytes exceed what the file can hold.
    private func checkDeclaredSize(_ name: String, count: Int, stride: Int) throws {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: stride)
        guard !overflow, bytes <= decodedBound else {
            throw PlasticityError.malformedHDF5(path: path, reason: "dataset '\(name)' declares \(count) entries, more than a file of its size can hold even compressed "
                                                + "(\(Self.maximumExpansion)× its bytes); it is damaged")
        }
    }

    private func readFlat<T>(_ name: String, memoryType: HDF5Library.ID, as: T.Type, requireInteger: Bool = false) throws -> [T] {
        try withDataset(name) { dataset in
            guard dataset.typeClass != HDF5Library.variableLengthClass else {
                throw PlasticityError.malformedHDF5(path: path, reason: "dataset '\(name)' holds variable-length vectors, expected one number per entry")
            }
            try checkNumeric(name, dataset.elementClass, requireInteger: requireInteger)
            try checkDeclaredSize(name, count: dataset.count, stride: MemoryLayout<T>.stride)
            guard dataset.count > 0 else { return [] }
            let values = [T](unsafeUninitializedCapacity: dataset.count) { buffer, initialized in
                initialized = library.read(dataset.id, memoryType, 0, 0, 0, buffer.baseAddress!) >= 0 ? dataset.count : 0
            }
            guard values.count == dataset.count else { throw PlasticityError.malformedHDF5(path: path, reason: "dataset '\(name)' could not be read (a truncated or damaged file, or more data than memory allows)") }
            return values
        }
    }

    private func readRagged<T>(_ name: String, base: HDF5Library.ID, as: T.Type, requireInteger: Bool, requireFloat: Bool = false) throws -> ([T], [Int]) {
        try withDataset(name) { dataset in
            guard dataset.typeClass == HDF5Library.variableLengthClass else {
                throw PlasticityError.malformedHDF5(path: path, reason: "dataset '\(name)' holds \(HDF5Library.className(dataset.typeClass)), expected variable-length vectors (one per sample)")
            }
            try checkNumeric(name, dataset.elementClass, requireInteger: requireInteger, requireFloat: requireFloat)
            try checkDeclaredSize(name, count: dataset.count, stride: MemoryLayout<HDF5Library.VariableLength>.stride)
            let memoryType = library.vlenCreate(base)
            defer { _ = library.closeType(memoryType) }
            let vectors = UnsafeMutablePointer<HDF5Library.VariableLength>.allocate(capacity: Swift.max(1, dataset.count))
            defer { vectors.deallocate() }
            guard library.read(dataset.id, memoryType, 0, 0, 0, vectors) >= 0 else {
                throw PlasticityError.malformedHDF5(path: path, reason: "dataset '\(name)' could not be read (a truncated or damaged file, or more data than memory allows)")
            }
            var values: [T] = [], lengths: [Int] = []
            lengths.reserveCapacity(dataset.count)
            for index in 0..<dataset.count {
                let vector = vectors[index]
                lengths.append(vector.length)
                if vector.length > 0, let pointer = vector.pointer {
                    values.append(contentsOf: UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: T.self), count: vector.length))
                }
            }
            let space = library.datasetSpace(dataset.id)
            _ = library.reclaim(memoryType, space, 0, vectors)
            _ = library.closeSpace(space)
            return (values, lengths)
        }
    }
}

/// The libhdf5 functions `HDF5File` calls, looked up once.
struct HDF5Library {
    typealias ID = Int64   // hid_t since HDF5 1.10
    typealias Status = Int32

    /// hvl_t: one variable-length vector as HDF5 hands it over.
    struct VariableLength {
        var length: Int
        var pointer: UnsafeMutableRawPointer?
    }

    static let integerClass: Int32 = 0, floatClass: Int32 = 1, stringClass: Int32 = 3, variableLengthClass: Int32 = 9

    static func className(_ typeClass: Int32) -> String {
        switch typeClass {
        case integerClass: return "integers"
        case floatClass: return "floating-point numbers"
        case stringClass: return "strings"
        case variableLengthClass: return "variable-length vectors"
        default: return "HDF5 type class \(typeClass)"
        }
    }

    /// Where to look: `PLASTICITY_HDF5_LIBRARY`, then Debian's and upstream's sonames.
    static var candidates: [String] {
        (ProcessInfo.processInfo.environment["PLASTICITY_HDF5_LIBRARY"].map { [$0] } ?? [])
            + ["libhdf5_serial.so.103", "libhdf5.so.103", "libhdf5.so.200", "libhdf5.so.310", "libhdf5_serial.so", "libhdf5.so"]
    }

    static let shared: Result<HDF5Library, PlasticityError> = Result { try load() }.mapError { $0 as? PlasticityError ?? .hdf5Unavailable(tried: candidates, reason: "\($0)") }

    let openFile: @convention(c) (UnsafePointer<CChar>, UInt32, ID) -> ID
    let closeFile: @convention(c) (ID) -> Status
    let linkExists: @convention(c) (ID, UnsafePointer<CChar>, ID) -> Int32
    let openDataset: @convention(c) (ID, UnsafePointer<CChar>, ID) -> ID
    let closeDataset: @convention(c) (ID) -> Status
    let datasetSpace: @convention(c) (ID) -> ID
    let datasetType: @convention(c) (ID) -> ID
    let rank: @convention(c) (ID) -> Int32
    let dimensions: @convention(c) (ID, UnsafeMutablePointer<UInt64>?, UnsafeMutablePointer<UInt64>?) -> Int32
    let closeSpace: @convention(c) (ID) -> Status
    let typeClass: @convention(c) (ID) -> Int32
    let superType: @convention(c) (ID) -> ID
    let vlenCreate: @convention(c) (ID) -> ID
    let closeType: @convention(c) (ID) -> Status
    let read: @convention(c) (ID, ID, ID, ID, ID, UnsafeMutableRawPointer) -> Status
    let reclaim: @convention(c) (ID, ID, ID, UnsafeMutableRawPointer) -> Status
    /// H5Eclear2: empties an error stack (H5E_DEFAULT = 0).
    let clearErrors: @convention(c) (ID) -> Status
    let nativeDouble: ID
    let nativeInt64: ID

    private static func load() throws -> HDF5Library {
        let library: SystemLibrary
        switch SystemLibrary.open(candidates) {
        case .success(let opened): library = opened
        case .failure(let failure): throw PlasticityError.hdf5Unavailable(tried: candidates, reason: failure.reason)
        }
        let name = library.name
        func symbol<F>(_ symbolName: String, as type: F.Type) throws -> F {
            guard let function = library.function(symbolName, as: type) else {
                throw PlasticityError.hdf5Unavailable(tried: [name], reason: "\(name) has no \(symbolName) (HDF5 1.10 or later is needed)")
            }
            return function
        }
        // H5open initialises the library and with it the native type identifiers, which are
        // global variables; H5Eset_auto2(H5E_DEFAULT, NULL, NULL) stops it printing error
        // stacks, since every failure is reported here with its cause.
        let open = try symbol("H5open", as: (@convention(c) () -> Status).self)
        guard open() >= 0 else { throw PlasticityError.hdf5Unavailable(tried: [name], reason: "H5open failed") }
        let silence = try symbol("H5Eset_auto2", as: (@convention(c) (ID, UnsafeRawPointer?, UnsafeRawPointer?) -> Status).self)
        _ = silence(0, nil, nil)
        func global(_ symbolName: String) throws -> ID {
            guard let address = library.address(of: symbolName) else {
                throw PlasticityError.hdf5Unavailable(tried: [name], reason: "\(name) has no \(symbolName)")
            }
            return address.load(as: ID.self)
        }
        return HDF5Library(
            openFile: try symbol("H5Fopen", as: (@convention(c) (UnsafePointer<CChar>, UInt32, ID) -> ID).self),
            closeFile: try symbol("H5Fclose", as: (@convention(c) (ID) -> Status).self),
            linkExists: try symbol("H5Lexists", as: (@convention(c) (ID, UnsafePointer<CChar>, ID) -> Int32).self),
            openDataset: try symbol("H5Dopen2", as: (@convention(c) (ID, UnsafePointer<CChar>, ID) -> ID).self),
            closeDataset: try symbol("H5Dclose", as: (@convention(c) (ID) -> Status).self),
            datasetSpace: try symbol("H5Dget_space", as: (@convention(c) (ID) -> ID).self),
            datasetType: try symbol("H5Dget_type", as: (@convention(c) (ID) -> ID).self),
            rank: try symbol("H5Sget_simple_extent_ndims", as: (@convention(c) (ID) -> Int32).self),
            dimensions: try symbol("H5Sget_simple_extent_dims",
                                   as: (@convention(c) (ID, UnsafeMutablePointer<UInt64>?, UnsafeMutablePointer<UInt64>?) -> Int32).self),
            closeSpace: try symbol("H5Sclose", as: (@convention(c) (ID) -> Status).self),
            typeClass: try symbol("H5Tget_class", as: (@convention(c) (ID) -> Int32).self),
            superType: try symbol("H5Tget_super", as: (@convention(c) (ID) -> ID).self),
            vlenCreate: try symbol("H5Tvlen_create", as: (@convention(c) (ID) -> ID).self),
            closeType: try symbol("H5Tclose", as: (@convention(c) (ID) -> Status).self),
            read: try symbol("H5Dread", as: (@convention(c) (ID, ID, ID, ID, ID, UnsafeMutableRawPointer) -> Status).self),
            reclaim: try symbol("H5Dvlen_reclaim", as: (@convention(c) (ID, ID, ID, UnsafeMutableRawPointer) -> Status).self),
            clearErrors: try symbol("H5Eclear2", as: (@convention(c) (ID) -> Status).self),
            nativeDouble: try global("H5T_NATIVE_DOUBLE_g"),
            nativeInt64: try global("H5T_NATIVE_LLONG_g"))
    }
}
