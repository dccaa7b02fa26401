// The benchmark's peer: the same walk to a registered case (language,
// topic, "get help", oblast, group, consent, SMS, confirm) with the npm
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
menu.state('main', choice('Какая помощь нужна?\n1 Срочная\n2 Права\n3 Юрпомощь', { '3': 'legal' }));
menu.state('legal', choice('Юрпомощь\n1 Что это\n2 Как получить\n3 Доказательства\n4 Получить помощь', { '4': 'oblast' }));
menu.state('oblast', choice('Область?\n1 Баткен\n2 Джалал-Абад\n3 Ош\n4 Талас', { '*[1-4]': 'group' }));
menu.state('group', choice('Ваша ситуация:\n1 Уезжаю\n2 Вернулась', { '*[1-2]': 'consent' }));
menu.state('consent', choice('Передать ваш номер партнёрам?\n1 Да\n2 Нет', { '*[1-2]': 'sms' }));
menu.state('sms', choice('Сообщить по SMS?\n1 Да\n2 Нет', { '*[1-2]': 'confirm' }));
menu.state('confirm', choice('Отправить?\n1 Да\n2 Нет', { '1': 'done' }));
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
