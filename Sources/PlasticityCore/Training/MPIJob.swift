import Foundation
import PlasticityBase
import PlasticityEngine

/// A job started by `mpirun -np K` (K > 1): the ranks of `MPI_COMM_WORLD`, through the system's
/// MPI library opened at run time — Open MPI or MPICH (and its derivatives), whose binary
/// interfaces differ (handles are pointers to globals in Open MPI, fixed integers in MPICH) —
/// so that the build needs no MPI and a machine without it loses nothing else.
/// `PLASTICITY_MPI_LIBRARY` names a library elsewhere.
public final class MPIJob: ShardDistribution, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// The library's name, and which implementation it is.
    public let library: String
    /// How the ranks combine their shards' results (`--exchange`); set before training.
    public var exchange = ShardExchange.gather
    private let allGatherDoubles: (UnsafeRawPointer, Int32, UnsafeMutableRawPointer, Int32) -> Int32
    private let allReduceDoubles: (UnsafeRawPointer, UnsafeMutableRawPointer, Int32) -> Int32
    private let abortJob: (Int32) -> Int32
    private let finalizeJob: () -> Int32

    public static let libraryVariable = "PLASTICITY_MPI_LIBRARY"

    /// Time spent in the exchange (waiting for the slowest rank included), and the bytes this
    /// rank received: what the job's communication costs, for the report and the speed-up model.
    public private(set) var exchangeSeconds = 0.0
    public private(set) var receivedBytes = 0

    /// The job this process belongs to, from the variables `mpirun` sets (Open MPI's
    /// OMPI_COMM_WORLD_SIZE, MPICH's PMI_SIZE); nil when not started by `mpirun`, or with one rank.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MPIJob? {
        let openMPI = environment["OMPI_COMM_WORLD_SIZE"] != nil
        guard let text = environment["OMPI_COMM_WORLD_SIZE"] ?? environment["PMI_SIZE"], let declared = Int(text), declared > 1 else { return nil }
        let candidates = environment[libraryVariable].map { [$0] } ?? (openMPI ? ["libmpi.so.40", "libmpi.so"] : ["libmpi.so.12", "libmpich.so.12", "libmpi.so"])
        let library: SystemLibrary
        switch SystemLibrary.open(candidates, global: true) {
        case .success(let opened): library = opened
        case .failure(let failure):
            throw PlasticityError.invalidConfiguration("started by mpirun with \(declared) ranks, but no MPI library loads (\(candidates.joined(separator: ", ")): \(failure.reason)); "
                                                       + "install Open MPI (apt install openmpi-bin) or MPICH, or name the library with \(libraryVariable)")
        }
        let job = try MPIJob(library: library)
        guard job.size == declared else {
            throw PlasticityError.invalidConfiguration("mpirun started \(declared) ranks but \(library.name) sees \(job.size): the library is not the one mpirun belongs to; name it with \(libraryVariable)")
        }
        return job
    }

    private init(library: SystemLibrary) throws {
        func symbol<F>(_ name: String, _ type: F.Type) throws -> F {
            guard let function = library.function(name, as: type) else {
                throw PlasticityError.invalidConfiguration("\(library.name) has no \(name): it is not an MPI library")
            }
            return function
        }
        typealias Initialize = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32
        typealias Finalize = @convention(c) () -> Int32
        guard try symbol("MPI_Init", Initialize.self)(nil, nil) == 0 else { throw PlasticityError.invalidConfiguration("MPI_Init failed in \(library.name)") }
        var rank: Int32 = 0, size: Int32 = 0
        if let world = library.address(of: "ompi_mpi_comm_world"), let double = library.address(of: "ompi_mpi_double"),
           let sum = library.address(of: "ompi_mpi_op_sum") {
            // Open MPI: MPI_Comm and MPI_Datatype are pointers to these globals.
            typealias Rank = @convention(c) (UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> Int32
            typealias AllGather = @convention(c) (UnsafeRawPointer, Int32, UnsafeMutableRawPointer, UnsafeMutableRawPointer, Int32, UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32
            typealias AllReduce = @convention(c) (UnsafeRawPointer, UnsafeMutableRawPointer, Int32, UnsafeMutableRawPointer, UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32
            typealias Abort = @convention(c) (UnsafeMutableRawPointer, Int32) -> Int32
            _ = try symbol("MPI_Comm_rank", Rank.self)(world, &rank)
            _ = try symbol("MPI_Comm_size", Rank.self)(world, &size)
            let gather = try symbol("MPI_Allgather", AllGather.self), abort = try symbol("MPI_Abort", Abort.self)
            let reduce = try symbol("MPI_Allreduce", AllReduce.self)
            allGatherDoubles = { send, count, receive, each in gather(send, count, double, receive, each, double, world) }
            allReduceDoubles = { send, receive, count in reduce(send, receive, count, double, sum, world) }
            abortJob = { abort(world, $0) }
            self.library = "\(library.name) (Open MPI)"
        } else {
            // MPICH's binary interface: MPI_COMM_WORLD, MPI_DOUBLE and MPI_SUM are fixed integers.
            let world: Int32 = 0x4400_0000, double: Int32 = 0x4C00_080B, sum: Int32 = 0x5800_0003
            typealias Rank = @convention(c) (Int32, UnsafeMutablePointer<Int32>) -> Int32
            typealias AllGather = @convention(c) (UnsafeRawPointer, Int32, Int32, UnsafeMutableRawPointer, Int32, Int32, Int32) -> Int32
            typealias AllReduce = @convention(c) (UnsafeRawPointer, UnsafeMutableRawPointer, Int32, Int32, Int32, Int32) -> Int32
            typealias Abort = @convention(c) (Int32, Int32) -> Int32
            _ = try symbol("MPI_Comm_rank", Rank.self)(world, &rank)
            _ = try symbol("MPI_Comm_size", Rank.self)(world, &size)
            let gather = try symbol("MPI_Allgather", AllGather.self), abort = try symbol("MPI_Abort", Abort.self)
            let reduce = try symbol("MPI_Allreduce", AllReduce.self)
            allGatherDoubles = { send, count, receive, each in gather(send, count, double, receive, each, double, world) }
            allReduceDoubles = { send, receive, count in reduce(send, receive, count, double, sum, world) }
            abortJob = { abort(world, $0) }
            self.library = "\(library.name) (MPICH interface)"
        }
        let finalize = try symbol("MPI_Finalize", Finalize.self)
        finalizeJob = { finalize() }
        self.rank = Int(rank)
        self.size = Int(size)
    }

    /// Every rank's `contribution` on every rank: their lengths first, then the contributions
    /// padded to the longest.
    public func allGather(_ contribution: [Double]) throws -> [[Double]] {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { exchangeSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        let lengths = try gather([Double(contribution.count)], each: 1).map { Int($0[0]) }
        let longest = lengths.max() ?? 0
        guard longest < Int(Int32.max) else { throw PlasticityError.invalidConfiguration("a rank's contribution of \(longest) values is more than MPI counts") }
        let padded = contribution + [Double](repeating: 0, count: longest - contribution.count)
        receivedBytes += longest * size * MemoryLayout<Double>.size
        return zip(try gather(padded, each: longest), lengths).map { Array($0.prefix($1)) }
    }

    /// The element-wise sum of every rank's `values` (`MPI_Allreduce` with `MPI_SUM`).
    public func allReduceSum(_ values: [Double]) throws -> [Double] {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { exchangeSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        guard values.count < Int(Int32.max) else { throw PlasticityError.invalidConfiguration("a sum of \(values.count) values is more than MPI counts") }
        var sums = [Double](repeating: 0, count: Swift.max(1, values.count))
        let status = values.withUnsafeBytes { send in
            sums.withUnsafeMutableBytes { receive in
                allReduceDoubles(send.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, receive.baseAddress!, Int32(values.count))
            }
        }
        guard status == 0 else { throw PlasticityError.invalidConfiguration("MPI_Allreduce failed (error \(status)) on rank \(rank) of \(size)") }
        receivedBytes += values.count * MemoryLayout<Double>.size
        return Array(sums.prefix(values.count))
    }

    private func gather(_ values: [Double], each count: Int) throws -> [[Double]] {
        var received = [Double](repeating: 0, count: Swift.max(1, count * size))
        let status = values.withUnsafeBytes { send in
            received.withUnsafeMutableBytes { receive in
                allGatherDoubles(send.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, Int32(count), receive.baseAddress!, Int32(count))
            }
        }
        guard status == 0 else { throw PlasticityError.invalidConfiguration("MPI_Allgather failed (error \(status)) on rank \(rank) of \(size)") }
        return (0..<size).map { Array(received[($0 * count)..<(($0 + 1) * count)]) }
    }

    /// Ends every rank of the job (a failing rank must not leave the others waiting).
    public func abort(code: Int32) -> Never {
        _ = abortJob(code)
        exit(code)
    }

    /// Leaves the job cleanly (every rank, at the end).
    public func finalize() {
        _ = finalizeJob()
    }
}
