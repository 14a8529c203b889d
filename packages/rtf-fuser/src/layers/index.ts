export {
  FuserLayer, RTFuserLayer, HardSwapFuserLayer, SAFuserLayer, ConcatFuserLayer, MeanFuserLayer, LateFusionLayer, fuserLayer, FUSER_LAYER_CLASSES,
} from './fuser-layer.js';
export type { FuserLayerArgs, FuserLayerOutput, RTFuserLayerArgs, HardSwapFuserLayerArgs, SAFuserLayerArgs } from './fuser-layer.js';
