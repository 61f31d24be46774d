module.exports = { testMatch: ['**/tests/**/*.test.cjs'], testEnvironment: 'node' };
