// `npm run demo`: the TypeORM example: SQLite in memory, in-process cache, no server needed.
import { runTypeOrmExample } from './typeorm/main.js';

void runTypeOrmExample();
