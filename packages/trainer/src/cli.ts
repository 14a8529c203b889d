// `@r3d-ts/trainer/cli`: what a command line needs before it trains, without TensorFlow.js. A
// command imports this at its top and the main entry only once it has parsed its flags and read
// its configuration, so `--help`, a bad flag or a bad file answers in a Node start (0.3 s), not in
// the second that loading TensorFlow.js and the model takes. The classes are the main entry's own
// (shared chunks): `instanceof ConfigError` holds across the two.
export { runCli, exitCodeOf, userFacingCommands, progressAllowed, packageVersion } from './run-cli.js';
export type { CommandLike } from './run-cli.js';
export { isUserError, userErrorLine, UsageError, USER_ERROR_CODES } from './user-error.js';
export { assertWritableFolder, OutputFolderError } from './output-folder.js';
export { stopOnSignals, signalExitCode } from './stop-signal.js';
export type { SignalStop } from './stop-signal.js';
export { CheckpointError, ConfigError, NonFiniteLossError, RunFolderError, TrainingStoppedError } from './errors.js';
export { trainConfigSchema, parseTrainConfig, defaultWarmupEpochs } from './config.js';
export type { TrainConfig, TrainConfigInput } from './config.js';
