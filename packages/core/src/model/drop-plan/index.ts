// Drop plans from outside: planning the drops (plan.ts) and learning a verified plan with runs (learn.ts).
export * from './plan.js';
export { learnDropPlan, DROP_PLAN_ATTEMPTS, type DropPlanOptions } from './learn.js';
