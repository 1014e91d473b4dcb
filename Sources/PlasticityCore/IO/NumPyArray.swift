import Foundation
import PlasticityBase

/// An n-dimensional array in NumPy's `.npy` format (version 1.0, C order, little-endian).
public struct NumPyArray: Equatable, Sendable {
    /// The element types Plasticity reads and writes.
    public enum DataType: String, Sendable {
        case float32 = "<f4", float64 = "<f8", int32 = "<i4", int64 = "<i8", uint8 = "|u1", bool = "|b1"

        var size: Int {
            switch self {
            case .float32, .int32: return 4
            case .float64, .int64: return 8
            case .uint8, .bool: return 1
            }
        }

        /// NumPy writes one-byte types with either byte-order mark.
        init?(descriptor: String) {
            let normalized = descriptor.replacingOccurrences(of: "=", with: "<")
            if let known = DataType(rawValue: normalized) { self = known; return }
            switch normalized {
            case "<u1", "u1": self = .uint8
            case "<b1", "b1", "?": self = .bool
            default: return nil
            }
        }
    }

    public var shape: [Int]
    public var dataType: DataType
    /// The elements, little-endian, C order.
    public var bytes: Data

    public var count: Int { shape.reduce(1, *) }

    public init(shape: [Int], dataType: DataType, bytes: Data) {
        self.shape = shape
        self.dataType = dataType
        self.bytes = bytes
    }

    public init(_ values: [Float], shape: [Int]) {
        self.init(shape: shape, dataType: .float32, bytes: values.withUnsafeBytes { Data($0) })
        precondition(count == values.count, "shape \(shape) does not hold \(values.count) values")
    }

    public init(_ values: [Double], shape: [Int]) {
        self.init(shape: shape, dataType: .float64, bytes: values.withUnsafeBytes { Data($0) })
        precondition(count == values.count, "shape \(shape) does not hold \(values.count) values")
    }

    public init(integers values: [Int], shape: [Int]) {
        self.init(shape: shape, dataType: .int64, bytes: values.map { Int64($0) }.withUnsafeBytes { Data($0) })
        precondition(count == values.count, "shape \(shape) does not hold \(values.count) values")
    }

    /// The elements converted to Double (any numeric type).
    public var doubles: [Double] {
        bytes.withUnsafeBytes { Self.doubles($0, dataType) }
    }

    /// Elements of `dataType` (little-endian, aligned) converted to Double.
    public static func doubles(_ raw: UnsafeRawBufferPointer, _ dataType: DataType) -> [Double] {
        switch dataType {
        case .float32: return raw.bindMemory(to: Float.self).map(Double.init)
        case .float64: return Array(raw.bindMemory(to: Double.self))
        case .int32: return raw.bindMemory(to: Int32.self).map(Double.init)
        case .int64: return raw.bindMemory(to: Int64.self).map(Double.init)
        case .uint8, .bool: return raw.bindMemory(to: UInt8.self).map(Double.init)
        }
    }

    /// The elements as integers; fails on a non-integral floating-point value.
    public func integers(name: String) throws -> [Int] {
        try doubles.map { value in
            guard value.isFinite, value == value.rounded() else {
                throw PlasticityError.malformedArray(name: name, reason: "expected integers, found \(value)")
            }
            return Int(value)
        }
    }

    /// The `.npy` file contents.
    public func encoded() -> Data {
        let dimensions = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(dataType.rawValue)', 'fortran_order': False, 'shape': (\(dimensions)), }"
        // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, ending in '\n'.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(Data(header.utf8))
        data.append(bytes)
        return data
    }

    /// Parses `.npy` file contents; `name` is used in error messages.
    public init(npy data: Data, name: String) throws {
        let header = try Header(prefix: data, name: name)
        let body = data.subdata(in: header.length..<data.count)
        guard body.count == header.byteCount else {
            throw PlasticityError.malformedArray(name: name, reason: "holds \(body.count) bytes of data, but shape \(header.shape) of \(header.dataType) needs \(header.byteCount) "
                                                 + (body.count < header.byteCount ? "(truncated?)" : "(trailing data after the array)"))
        }
        self.init(shape: header.shape, dataType: header.dataType, bytes: body)
    }

    /// What a `.npy` header says: the array's shape and type, and where its data starts.
    public struct Header {
        public let shape: [Int]
        public let dataType: DataType
        /// Bytes of the header: the data starts there.
        public let length: Int
        /// Bytes of the data the shape and type need.
        public let byteCount: Int

        /// Longest header read: the version-1 limit of 65535 bytes and the fixed part.
        public static let longest = 10 + 65535

        /// Parses the header at the start of `prefix` (which may hold more than the header);
        /// `name` is used in error messages.
        public init(prefix data: Data, name: String) throws {
            func fail(_ reason: String) -> PlasticityError { .malformedArray(name: name, reason: reason) }
            let bytes = [UInt8](data.prefix(12))
            guard bytes.count >= 10, bytes[0] == 0x93, Data(bytes[1..<6]) == Data("NUMPY".utf8) else { throw fail("not a .npy array (bad magic)") }
            let major = bytes[6]
            let headerLength: Int, headerStart: Int
            switch major {
            case 1:
                headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
                headerStart = 10
            case 2, 3:
                guard bytes.count >= 12 else { throw fail("truncated header") }
                headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
                headerStart = 12
            default:
                throw fail("unsupported .npy version \(major)")
            }
            guard data.count >= headerStart + headerLength,
                  let header = String(data: data.subdata(in: (data.startIndex + headerStart)..<(data.startIndex + headerStart + headerLength)), encoding: .utf8) else {
                throw fail("truncated header")
            }
            guard let descriptor = NumPyArray.value(of: "descr", in: header)?.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) else {
                throw fail("header has no 'descr'")
            }
            guard let dataType = DataType(descriptor: descriptor) else {
                throw fail("unsupported dtype '\(descriptor)' (use float32, float64, int32, int64, uint8 or bool, little-endian)")
            }
            guard NumPyArray.value(of: "fortran_order", in: header) == "False" else { throw fail("Fortran-ordered arrays are not supported; save with C order") }
            guard let shapeText = NumPyArray.value(of: "shape", in: header) else { throw fail("header has no 'shape'") }
            let shape = try shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                .map { text -> Int in
                    guard let value = Int(text), value >= 0 else { throw fail("bad shape \(shapeText)") }
                    return value
                }
            guard let byteCount = NumPyArray.byteCount(shape: shape, dataType: dataType) else {
                throw fail("shape \(shapeText) of \(dataType) is more bytes than any file holds")
            }
            self.shape = shape
            self.dataType = dataType
            self.length = headerStart + headerLength
            self.byteCount = byteCount
        }
    }

    /// Bytes of an array of `shape`, or nil if the product overflows.
    static func byteCount(shape: [Int], dataType: DataType) -> Int? {
        var total = dataType.size
        for dimension in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// The text of `key`'s value in a NumPy header dictionary.
    private static func value(of key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)':") else { return nil }
        let rest = header[keyRange.upperBound...].trimmingCharacters(in: .whitespaces)
        if rest.hasPrefix("(") {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        let end = rest.firstIndex(where: { $0 == "," || $0 == "}" }) ?? rest.endIndex
        return rest[..<end].trimmingCharacters(in: .whitespaces)
    }
}
