/// Every failure the core reports to a user. Each message names the file, model or value at
/// fault and, where there is one, what to do about it.
public enum PlasticityError: Error, CustomStringConvertible, Equatable {
    case pluginNotFound(name: String, searched: [String])
    case pluginFileMissing(path: String)
    case pluginAlreadyLoaded(path: String)
    case notALibrary(path: String, reason: String)
    case missingSymbol(path: String, symbol: String)
    case abiVersionMismatch(path: String, found: Int32, expected: String)
    case foreignCore(path: String)
    case duplicateModel(name: String, existing: String, new: String)
    case unknownModel(name: String, known: [String])
    case unknownParameter(model: String, name: String, known: [String])
    case parameterOutOfRange(model: String, name: String, value: Double, range: String)
    case undeclaredParameterRead(model: String, name: String)
    case invalidModel(model: String, reason: String)
    case invalidModelFile(path: String, line: Int, column: Int, reason: String)
    case invalidSurrogate(String, String)
    case invalidConfiguration(String)
    case shapeMismatch(name: String, expected: String, found: String)
    case malformedArray(name: String, reason: String)
    case missingArray(name: String, file: String)
    case hdf5Unavailable(tried: [String], reason: String)
    case malformedHDF5(path: String, reason: String)
    case blasUnavailable(tried: [String], reason: String)
    case noRuleFits(policy: String, reasons: String)
    case nonFinite(quantity: String, value: String, location: String)
    case invalidCheckpoint(path: String, reason: String)
    case verificationFailed(path: String, detail: String)
    case failedVerificationAtParameters(detail: String, command: String)
    /// A file (a plugin, a data file) refused by a check in a separate process: `reason` is the whole sentence.
    case refusedInSeparateProcess(reason: String)
    /// Another rank of a distributed job failed with `message`.
    case distributedFailure(rank: Int, message: String)

    public var description: String {
        switch self {
        case .pluginNotFound(let name, let searched):
            return "plugin '\(name)' not found; looked in: \(searched.isEmpty ? "(no directories)" : searched.joined(separator: ", ")). "
                + "Build the plugins with `swift build` (they are products of this package), pass a path with --plugin, "
                + "or add their directory to PLASTICITY_PLUGIN_PATH."
        case .pluginFileMissing(let path):
            return "plugin file \(path) does not exist"
        case .pluginAlreadyLoaded(let path):
            return "plugin \(path) is already loaded"
        case .notALibrary(let path, let reason):
            return "\(path) is not a loadable plugin library: \(reason)"
        case .missingSymbol(let path, let symbol):
            return "\(path) does not export \(symbol); it is not a Plasticity plugin (see Documentation/WritingAPlugin.md)"
        case .abiVersionMismatch(let path, let found, let expected):
            return "\(path) was built for plugin ABI version \(found), but this Plasticity speaks version \(expected); rebuild the plugin against this core"
        case .foreignCore(let path):
            return "\(path) returned a manifest this host does not recognise: the plugin carries its own copy of PlasticityCore "
                + "instead of linking the shared dynamic library; depend on the PlasticityCore product"
        case .duplicateModel(let name, let existing, let new):
            return "model '\(name)' from \(new) is already registered by \(existing); model names must be unique"
        case .unknownModel(let name, let known):
            return "no model named '\(name)'; loaded models: \(known.isEmpty ? "none" : known.joined(separator: ", "))"
        case .unknownParameter(let model, let name, let known):
            return "model \(model) has no parameter '\(name)'; its parameters are \(known.joined(separator: ", "))"
        case .parameterOutOfRange(let model, let name, let value, let range):
            return "parameter \(name) = \(value) of model \(model) is outside its valid range \(range)"
        case .undeclaredParameterRead(let model, let name):
            return "model \(model) reads parameter '\(name)' that it does not declare"
        case .invalidModel(let model, let reason):
            return "model \(model) is invalid: \(reason)"
        case .invalidModelFile(let path, let line, let column, let reason):
            return "\(path):\(line):\(column): \(reason)"
        case .invalidSurrogate(let text, let reason):
            return "invalid surrogate '\(text)': \(reason)"
        case .invalidConfiguration(let reason):
            return "impossible configuration: \(reason)"
        case .shapeMismatch(let name, let expected, let found):
            return "array '\(name)' has shape \(found), expected \(expected)"
        case .malformedArray(let name, let reason):
            return "array '\(name)': \(reason)"
        case .missingArray(let name, let file):
            return "\(file) has no array '\(name)'"
        case .hdf5Unavailable(let tried, let reason):
            return "reading HDF5 needs libhdf5 1.10 or later, which is optional and could not be loaded (tried \(tried.joined(separator: ", ")): \(reason)). "
                + "Install it (Debian: apt install libhdf5-103-1), set PLASTICITY_HDF5_LIBRARY to its path, "
                + "or convert the files to .npz with Scripts/shd_to_npz.py (Documentation/Training.md)"
        case .malformedHDF5(let path, let reason):
            return "\(path) \(reason)"
        case .blasUnavailable(let tried, let reason):
            return "PLASTICITY_BLAS asks for OpenBLAS, which is optional and could not be loaded (tried \(tried.joined(separator: ", ")): \(reason)). "
                + "Install it (Debian: apt install libopenblas0), point PLASTICITY_BLAS at the library's path, "
                + "or unset PLASTICITY_BLAS to use the built-in products"
        case .nonFinite(let quantity, let value, let location):
            return "\(quantity) is \(value) at \(location); stopping (check the data, lower the learning rate or the input scale, or clip gradients)"
        case .refusedInSeparateProcess(let reason):
            return reason
        case .distributedFailure(let rank, let message):
            return "rank \(rank) of the job failed: \(message)"
        case .failedVerificationAtParameters(let detail, let command):
            return "\(detail). The model's rules pass at its defaults but not at these parameter values, so its gradients would be wrong here; `\(command)` prints every check"
        case .verificationFailed(let path, let detail):
            return "\(path) was refused: \(detail). Fix the kernel, rule or annotation it names; `plasticity verify \(path)` prints every check"
        case .invalidCheckpoint(let path, let reason):
            return "checkpoint \(path) \(reason)"
        case .noRuleFits(let policy, let reasons):
            return "no learning rule satisfies the '\(policy)' policy within the memory budget: \(reasons). Raise --memory, shorten the sequences, shrink the batch or relax the policy"
        }
    }
}
