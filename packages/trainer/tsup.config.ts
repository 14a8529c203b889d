import { packageConfig } from '@r3d-ts/tooling/tsup';

export default packageConfig();
