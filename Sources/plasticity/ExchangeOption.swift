import ArgumentParser
import PlasticityCore

extension ShardExchange: @retroactive ExpressibleByArgument {}

/// `--exchange`: how MPI ranks combine their shards' results (`train` runs it, `plan` prices it).
struct ExchangeOption: ParsableArguments {
    @Option(help: "Under mpirun: how the ranks combine their shards' results. gather: every rank receives every shard's and adds them in order, bit-identical to one process; sum: each rank adds its own and MPI sums the ranks' (what a rank receives does not grow with the shards; agrees with one process to rounding).")
    var exchange: ShardExchange = .gather
}
