/** The tests' free port comes from the helpers shared with bench/ (support/free-port.ts). */
export { freePort } from '../../support/free-port.js';
