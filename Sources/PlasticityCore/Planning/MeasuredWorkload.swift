import PlasticityBase
import PlasticityEngine

extension Workload {
    /// The workload of training `network` on batches like `batch`: its size, length and loss,
    /// with the density of its inputs and the spike density of one forward pass with
    /// `parameters`. The products over inputs and spikes are priced by both, and at the shapes
    /// people train (SHD: a few percent of inputs and neurons active per step) the dense worst
    /// case, which prices every product in full, orders the rules wrongly.
    public static func measured(network: Network, parameters: ParameterSet<Float>, batch: SequenceBatch<Float>) throws -> Workload {
        let forward = try Evaluation.run(network: network, parameters: parameters, batch: batch)
        return Workload(batch: batch.batch, steps: batch.steps, deferredLoss: batch.loss.isDeferred, inputDensity: density(of: batch.inputs))
            .measuring(spikes: forward.spikes, steps: batch.steps, hidden: network.neuronCount)
    }
}
