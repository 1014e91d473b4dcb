// The core's one module for its clients (the tool, plugins, tests): every layer, re-exported.
// The layers are separate targets so that the compiler enforces their direction:
// PlasticityBase → PlasticityIO; PlasticityBase → PlasticityEngine (expressions and AD,
// models, numerics, the network, the rules) → PlasticityPlanning, PlasticityData →
// PlasticityTraining. Nothing points back up.
@_exported import PlasticityBase
@_exported import PlasticityIO
@_exported import PlasticityEngine
@_exported import PlasticityPlanning
@_exported import PlasticityData
@_exported import PlasticityTraining
