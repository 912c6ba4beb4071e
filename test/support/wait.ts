/** The tests' polling helper comes from the helpers shared with bench/ (support/wait.ts). */
export { waitFor } from '../../support/wait.js';
