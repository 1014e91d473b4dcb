import ArgumentParser

/// Whether a command's network has recurrent weights W_rec: the same flags and the same default
/// in every command (`train`, `plan`, `compare`, `bench`).
struct RecurrentWeights: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Recurrent weights W_rec, each layer onto itself (default: with them; bench cost-model measures both unless one is given).")
    var recurrent: Bool?

    /// With W_rec unless --no-recurrent.
    var enabled: Bool { recurrent ?? true }
}
