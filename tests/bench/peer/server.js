// The benchmark's peer: the same walk to a registered case as the load
// path (language, legal aid, "need a lawyer", oblast, group, how to
// contact her, consent) with the npm
// package ussd-menu-builder on Express, following its README's pattern.
// Cases are kept in memory only (the gateway's are fsynced to SQLite).
const express = require('express');
const UssdMenu = require('ussd-menu-builder');

const app = express();
app.use(express.urlencoded({ extended: true }));
const port = Number(process.argv[2] || 9091);
let cases = 0;

const menu = new UssdMenu();
const choice = (text, next) => ({ run: () => menu.con(text), next });

menu.startState(choice('Тилди тандаңыз / Выберите язык\n1 Кыргызча\n2 Русский', { '*[1-2]': 'main' }));
menu.state('main', choice('Меню\n1 Срочно\n2 Юрист, семья\n3 Работа, выезд\n4 Моё обращение\n5 Тил/Язык', { '2': 'legal' }));
menu.state('legal', choice('Юрист, семья\n1 Нужен юрист\n2 Что бесплатно\n3 Документы\n0 Назад', { '1': 'oblast' }));
menu.state('oblast', choice('Область?\n1 Баткен\n2 Джалал-Абад\n3 Ош\n4 Талас\n5 Другая', { '*[1-5]': 'group' }));
menu.state('group', choice('Вы:\n1 Уезжаю\n2 Вернулась\n3 Семья мигранта', { '*[1-3]': 'contact' }));
menu.state('contact', choice('Как связаться?\n1 Звоните\n2 В удобное время\n3 Только SMS\n4 Без связи', { '1': 'consent' }));
menu.state('consent', choice('Передать номер партнёру?\n1 Да\n2 Нет', { '1': 'done' }));
menu.state('done', {
  run: () => {
    cases += 1;
    menu.end('Принято. Код: R-' + String(1000000 + cases));
  },
});

app.post('/ussd', (req, res) => {
  menu.run(req.body, (result) => res.send(result));
});
app.get('/cases', (req, res) => res.send(String(cases)));

app.listen(port, '127.0.0.1', () => console.log(`peer listening on 127.0.0.1:${port}`));
