import { describeReadmeExamples, SLOW_READMES } from './readme-examples.js';

describeReadmeExamples('the slow ones', (readme) => SLOW_READMES.includes(readme));
