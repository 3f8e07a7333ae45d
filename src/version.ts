/** Kept in step with package.json by test/exports.test.ts. */
export const version = '0.1.0';
