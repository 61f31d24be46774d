import { greet } from './greet.js';
document.getElementById('app').textContent = greet('vite');
